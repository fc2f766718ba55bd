package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConntrackHooksTest {

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private ConntrackHooks hooks;

    @AfterEach
    void close() {
        if (hooks != null) {
            hooks.close();
        }
    }

    /** A hook that records what it was given and on which thread, and does what the test says. */
    private static final class Recording implements ConntrackHook {

        final String name;
        final List<ConntrackChange> seen = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();
        volatile CountDownLatch gate = new CountDownLatch(0);
        volatile RuntimeException failure;
        volatile boolean interrupted;
        volatile boolean closed;

        Recording(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void afterSync(ConntrackChange change) {
            seen.add(change);
            threads.add(Thread.currentThread().getName());
            try {
                gate.await();
            } catch (InterruptedException e) {
                interrupted = true;
                return;
            }
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static ProxyState generation(int endpoints, long generation) {
        var builder = port("ns", "web", "", Protocol.TCP, "198.19.0.10", 80);
        var eps = new io.kubeferry.proxy.model.Endpoint[endpoints];
        for (int i = 0; i < endpoints; i++) {
            eps[i] = endpoint("198.18.0." + (10 + i), 8080);
        }
        ProxyState s = state(builder.resolve(eps));
        return new ProxyState(s.node(), s.services(), generation);
    }

    private void awaitIdle() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!hooks.idle() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(hooks.idle(), "hooks went idle");
    }

    private double failures(String hook) {
        return metrics.get("kubeferry.conntrack.hook.failures").tag("hook", hook).counter().count();
    }

    @Test
    void eachHookRunsOnItsOwnThreadAndSeesEveryChangeInOrder() throws Exception {
        Recording a = new Recording("a");
        Recording b = new Recording("b");
        hooks = new ConntrackHooks(List.of(a, b), Duration.ofSeconds(5), metrics);
        ProxyState s0 = ProxyState.empty(generation(0, 0).node());
        ProxyState s1 = generation(1, 1);
        ProxyState s2 = generation(2, 2);
        hooks.synced(s0, s1, Set.of(), true);
        hooks.synced(s1, s2, Set.of(), false);
        awaitIdle();
        for (Recording r : List.of(a, b)) {
            // Merged or not, the changes cover s0 -> s2 exactly once, in order.
            assertEquals(s0, r.seen.get(0).previous());
            assertEquals(s2, r.seen.get(r.seen.size() - 1).current());
            assertEquals(2, r.seen.stream().mapToInt(ConntrackChange::syncs).sum());
            assertEquals(List.of("198.18.0.10:8080", "198.18.0.11:8080"), r.seen.stream()
                    .flatMap(c -> c.changes().addedEndpoints().stream()).map(e -> e.endpoint().hostPort()).toList());
        }
        assertEquals(Set.of("kube-ferry-hook-a"), Set.copyOf(a.threads));
        assertEquals(Set.of("kube-ferry-hook-b"), Set.copyOf(b.threads));
        assertEquals(0.0, failures("a"));
        assertEquals(2, metrics.get("kubeferry.conntrack.hook.duration").tag("hook", "a").timer().count()
                + metrics.get("kubeferry.conntrack.hook.coalesced.syncs").tag("hook", "a").counter().count(), 0.0);
    }

    @Test
    void aSlowHookGetsTheChangesThatCameMeanwhileMergedAndDelaysNoOtherHook() throws Exception {
        Recording slow = new Recording("slow");
        Recording quick = new Recording("quick");
        slow.gate = new CountDownLatch(1);
        hooks = new ConntrackHooks(List.of(slow, quick), Duration.ofSeconds(30), metrics);
        ProxyState[] s = new ProxyState[5];
        s[0] = ProxyState.empty(generation(0, 0).node());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (int i = 1; i < s.length; i++) {
            s[i] = generation(i, i);
            hooks.synced(s[i - 1], s[i], Set.of(), i == 1);
            while (i == 1 && slow.seen.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5); // the slow hook is in its first call before the others come
            }
        }
        while (quick.seen.stream().mapToInt(ConntrackChange::syncs).sum() < 4 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(4, quick.seen.stream().mapToInt(ConntrackChange::syncs).sum(), "the quick hook got all four while the slow one waits");
        assertEquals(1, slow.seen.size(), "the slow hook is still in its first call");
        slow.gate.countDown();
        awaitIdle();
        assertEquals(2, slow.seen.size(), "the three changes that came meanwhile arrive as one");
        ConntrackChange merged = slow.seen.get(1);
        assertEquals(3, merged.syncs());
        assertEquals(s[1], merged.previous());
        assertEquals(s[4], merged.current());
        assertEquals(3, merged.changes().addedEndpoints().size());
        assertEquals(2.0, metrics.get("kubeferry.conntrack.hook.coalesced.syncs").tag("hook", "slow").counter().count());
    }

    @Test
    void aFailingHookIsCountedAndTheOthersAndLaterCallsGoOn() throws Exception {
        Recording bad = new Recording("bad");
        Recording good = new Recording("good");
        bad.failure = new IllegalStateException("boom");
        hooks = new ConntrackHooks(List.of(bad, good), Duration.ofSeconds(5), metrics);
        ProxyState s0 = ProxyState.empty(generation(0, 0).node());
        hooks.synced(s0, generation(1, 1), Set.of(), true);
        awaitIdle();
        hooks.synced(generation(1, 1), generation(2, 2), Set.of(), false);
        awaitIdle();
        assertEquals(2.0, failures("bad"));
        assertEquals(0.0, failures("good"));
        assertEquals(2, bad.seen.size(), "a failure does not stop the next call");
        assertEquals(2, good.seen.size());
    }

    @Test
    void aHookPastItsTimeLimitIsInterruptedAndCountedAndTheNextCallIsClean() throws Exception {
        Recording stuck = new Recording("stuck");
        stuck.gate = new CountDownLatch(1); // never opened: only the interrupt ends the call
        hooks = new ConntrackHooks(List.of(stuck), Duration.ofMillis(200), metrics);
        ProxyState s0 = ProxyState.empty(generation(0, 0).node());
        hooks.synced(s0, generation(1, 1), Set.of(), true);
        awaitIdle();
        assertTrue(stuck.interrupted, "the call was interrupted at its time limit");
        assertEquals(1.0, failures("stuck"));
        stuck.gate = new CountDownLatch(0);
        stuck.interrupted = false;
        hooks.synced(generation(1, 1), generation(2, 2), Set.of(), false);
        awaitIdle();
        assertFalse(stuck.interrupted, "no interrupt left over for the next call");
        assertEquals(1.0, failures("stuck"));
        assertEquals(2, stuck.seen.size());
        assertNotEquals(0, metrics.get("kubeferry.conntrack.hook.duration").tag("hook", "stuck").timer().count());
    }

    @Test
    void syncedReturnsAtOnceWhateverTheHooksDo() throws Exception {
        Recording slow = new Recording("slow");
        slow.gate = new CountDownLatch(1);
        hooks = new ConntrackHooks(List.of(slow), Duration.ofSeconds(30), metrics);
        ProxyState s0 = ProxyState.empty(generation(0, 0).node());
        for (int i = 1; i <= 50; i++) {
            hooks.synced(i == 1 ? s0 : generation(i - 1, i - 1), generation(i, i), Set.of(), false);
        }
        // Fifty syncs reported while the hook is blocked in its first call: none of them waited for it.
        assertFalse(hooks.idle());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!hooks.offered() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        slow.gate.countDown();
        awaitIdle();
        assertEquals(50, slow.seen.stream().mapToInt(ConntrackChange::syncs).sum());
        assertEquals(2, slow.seen.size(), "the 49 changes that came while it was busy arrive merged, as one");
        hooks.close();
        assertTrue(slow.closed);
        hooks = null;
    }
}
