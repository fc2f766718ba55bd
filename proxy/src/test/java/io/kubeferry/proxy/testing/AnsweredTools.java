package io.kubeferry.proxy.testing;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A tool runner whose {@code runAllowingFailure} the test answers; {@code run} goes to the fake. */
public final class AnsweredTools {

    /** What the hook runs through runAllowingFailure, answered by the test. */
    public interface Answer {

        ToolResult of(ToolCommand command) throws ToolException;
    }

    private AnsweredTools() {
    }

    public static ToolRunner of(ToolRunner fake, Answer answer) {
        return new Answered(fake, answer, Set.of());
    }

    /**
     * {@code fake}, on a node where {@code tools} are not installed: {@link ToolRunner#missingTools} names those of
     * them a mode asks for (every command still goes to the fake).
     */
    public static ToolRunner without(ToolRunner fake, String... tools) {
        return new Answered(fake, fake::runAllowingFailure, Set.of(tools));
    }

    /** {@code run} to the fake, {@code runAllowingFailure} to the answer, the tools in {@code absent} missing. */
    private record Answered(ToolRunner fake, Answer answer, Set<String> absent) implements ToolRunner {

        @Override
        public ToolResult run(ToolCommand command) throws ToolException {
            return fake.run(command);
        }

        @Override
        public ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
            return answer.of(command);
        }

        @Override
        public Optional<String> missingTools(String mode, Collection<String> needed) {
            List<String> missing = needed.stream().filter(absent::contains).toList();
            if (missing.isEmpty()) {
                return fake.missingTools(mode, needed);
            }
            return Optional.of("proxy mode " + mode + " needs " + String.join(", ", missing) + ", not found");
        }
    }
}
