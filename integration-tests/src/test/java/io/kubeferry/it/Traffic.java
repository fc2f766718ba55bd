package io.kubeferry.it;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/** Waiting on, and sampling, the answers real traffic gets. */
public final class Traffic {

    private Traffic() {
    }

    /** Retries {@code attempt} until {@code done} accepts its answer; fails after 30 s with the last answer. */
    public static String awaitAnswer(String what, Callable<String> attempt, Predicate<String> done) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        String last = null;
        while (System.currentTimeMillis() < deadline) {
            last = attempt.call();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(what + ": still \"" + last + "\" after 30 s");
    }

    /** The distinct answers of {@code count} attempts. */
    public static Set<String> answers(int count, Callable<String> attempt) throws Exception {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < count; i++) {
            seen.add(attempt.call());
        }
        return seen;
    }
}
