package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.metrics.SyncMetrics;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the conntrack hooks after each successful sync as {@link ConntrackHook}'s contract says: the change set is
 * computed on a thread of its own (not the event loop), then each hook gets it on its own thread, merged with the
 * ones it has not seen yet when it is busy, under a time limit, with failures and time-outs logged and counted.
 * The sync that produced the change has already returned: nothing here can delay or fail one.
 * <p>
 * Each IP family's syncs are a sequence of their own: a change is merged only with later changes of its own family
 * (a ConntrackChange holds one family's states), and a hook gets each family's change as a call of its own.
 */
public final class ConntrackHooks implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConntrackHooks.class);

    private final ExecutorService intake;
    private final ScheduledExecutorService watchdog;
    private final List<Slot> slots;
    private final Duration limit;
    /** Changes handed to the intake thread and not yet offered to every hook. */
    private final AtomicInteger inIntake = new AtomicInteger();

    public ConntrackHooks(List<ConntrackHook> hooks, Duration limit, MeterRegistry metrics) {
        if (limit.isNegative() || limit.isZero()) {
            throw new IllegalArgumentException("the conntrack hook time limit must be positive, got " + limit);
        }
        this.limit = limit;
        this.intake = Executors.newSingleThreadExecutor(daemon("kube-ferry-conntrack-changes"));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(daemon("kube-ferry-conntrack-watchdog"));
        this.slots = hooks.stream().map(h -> new Slot(h, metrics)).toList();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return task -> {
            Thread thread = new Thread(task, name);
            // A hook never holds the JVM up at exit: what it did not finish the next agent's first sync covers.
            thread.setDaemon(true);
            return thread;
        };
    }

    /** The hooks' names, in load order. */
    public List<String> names() {
        return slots.stream().map(s -> s.hook.name()).toList();
    }

    /**
     * One successful sync of one family from {@code previous} to {@code current} (both of that family): returns at
     * once; the change set is computed and delivered on the hooks' threads, in the order the syncs were reported.
     */
    public void synced(ProxyState previous, ProxyState current, Set<ServicePortName> changed, boolean full) {
        if (slots.isEmpty()) {
            return;
        }
        inIntake.incrementAndGet();
        try {
            intake.execute(() -> {
                try {
                    ConntrackChange change = new ConntrackChange(previous, current, changed, full);
                    slots.forEach(s -> s.offer(change));
                } finally {
                    inIntake.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            inIntake.decrementAndGet();
            LOG.debug("conntrack hooks closed: the change of generation {} is not delivered", current.generation());
        }
    }

    /** True when no change waits and no hook runs (tests and benchmarks poll it). */
    public boolean idle() {
        return inIntake.get() == 0 && slots.stream().allMatch(Slot::idle);
    }

    /** True when every change reported has been offered to every hook (delivered, or merged into a pending one). */
    boolean offered() {
        return inIntake.get() == 0;
    }

    /** Stops taking changes; running hook calls finish on their own (daemon) threads. Closes every hook once. */
    @Override
    public void close() {
        intake.shutdown();
        watchdog.shutdown();
        for (Slot slot : slots) {
            slot.calls.shutdown();
            try {
                slot.hook.close();
            } catch (RuntimeException e) {
                LOG.warn("conntrack hook {} failed to close: {}", slot.hook.name(), e.getMessage());
            }
        }
    }

    /** One hook: its thread, the change it has not seen yet, its metrics. */
    private final class Slot {

        private final ConntrackHook hook;
        private final ExecutorService calls;
        private final Counter failures;
        private final Counter merged;
        private final Timer duration;
        /** Guarded by this: per family, the changes not yet delivered, merged; empty when none. */
        private final java.util.Map<io.kubeferry.proxy.model.IpFamily, ConntrackChange> pending = new java.util.EnumMap<>(
                io.kubeferry.proxy.model.IpFamily.class);
        /** Guarded by this: the ordinal of the family delivered last (starts so that IPv4 goes first). */
        private int turn = io.kubeferry.proxy.model.IpFamily.values().length - 1;
        /** Guarded by this: a drain task is queued or running. */
        private boolean draining;

        Slot(ConntrackHook hook, MeterRegistry metrics) {
            this.hook = hook;
            this.calls = Executors.newSingleThreadExecutor(daemon("kube-ferry-hook-" + hook.name()));
            this.failures = Counter.builder("kubeferry.conntrack.hook.failures").tag("hook", hook.name())
                    .description("Conntrack hook calls that failed or outlived their time limit").register(metrics);
            this.merged = Counter.builder("kubeferry.conntrack.hook.coalesced.syncs").tag("hook", hook.name())
                    .description("Syncs whose change reached a conntrack hook merged with later ones, because the hook was busy")
                    .register(metrics);
            // Upstream's sync buckets (1 ms x 2^0..14); MetricsExposition drops the _max gauge Micrometer adds.
            Duration[] buckets = Arrays.stream(SyncMetrics.exponentialBuckets())
                    .mapToObj(seconds -> Duration.ofNanos(Math.round(seconds * 1e9))).toArray(Duration[]::new);
            this.duration = Timer.builder("kubeferry.conntrack.hook.duration").tag("hook", hook.name())
                    .description("Conntrack hook call latency in seconds").serviceLevelObjectives(buckets).register(metrics);
        }

        synchronized boolean idle() {
            return !draining && pending.isEmpty();
        }

        void offer(ConntrackChange change) {
            synchronized (this) {
                ConntrackChange waiting = pending.get(change.current().family());
                if (waiting != null) {
                    merged.increment();
                    pending.put(change.current().family(), waiting.then(change));
                } else {
                    pending.put(change.current().family(), change);
                }
                if (draining) {
                    return;
                }
                draining = true;
            }
            try {
                calls.execute(this::drain);
            } catch (RejectedExecutionException e) {
                synchronized (this) {
                    draining = false;
                }
            }
        }

        private void drain() {
            while (true) {
                ConntrackChange change;
                synchronized (this) {
                    if (pending.isEmpty()) {
                        draining = false;
                        return;
                    }
                    // The families take turns (IPv4 first), so a busy family's stream of changes never starves the
                    // other's; each family's change is taken alone, the other's stays pending to be merged.
                    io.kubeferry.proxy.model.IpFamily[] families = io.kubeferry.proxy.model.IpFamily.values();
                    change = null;
                    for (int i = 1; change == null && i <= families.length; i++) {
                        io.kubeferry.proxy.model.IpFamily next = families[(turn + i) % families.length];
                        change = pending.remove(next);
                        if (change != null) {
                            turn = next.ordinal();
                        }
                    }
                }
                call(change);
            }
        }

        /** One call under the time limit: 0 running, 1 returned, 2 timed out (whichever comes first wins). */
        private void call(ConntrackChange change) {
            AtomicInteger outcome = new AtomicInteger();
            Thread self = Thread.currentThread();
            long start = System.nanoTime();
            ScheduledFuture<?> timer = null;
            try {
                timer = watchdog.schedule(() -> {
                    boolean late;
                    // Under the lock the call's end also takes: an interrupt never lands after the call returned.
                    synchronized (outcome) {
                        late = outcome.compareAndSet(0, 2);
                        if (late) {
                            // Counted before the interrupt: once the call has ended, its failure is visible.
                            failures.increment();
                            self.interrupt();
                        }
                    }
                    if (late) {
                        LOG.warn("conntrack hook {} outlived its time limit of {} ms on the change of generation {}: "
                                + "interrupted; later changes wait for it, merged", hook.name(), limit.toMillis(),
                                change.current().generation());
                    }
                }, limit.toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                return; // closed
            }
            try {
                hook.afterSync(change);
                ended(outcome);
            } catch (Exception | LinkageError e) {
                if (ended(outcome)) {
                    failures.increment();
                    LOG.warn("conntrack hook {} failed on the change of generation {}: {}", hook.name(),
                            change.current().generation(), e.toString());
                } else {
                    LOG.debug("conntrack hook {} ended after its time-out with {}", hook.name(), e.toString());
                }
            } finally {
                ended(outcome);
                timer.cancel(false);
                duration.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                // The time-out's interrupt, if any, is in by now (ended took the lock): it must not hit the next call.
                Thread.interrupted();
            }
        }

        /** Marks the call returned; true when it did so within its time limit. */
        private boolean ended(AtomicInteger outcome) {
            synchronized (outcome) {
                return outcome.compareAndSet(0, 1);
            }
        }
    }
}
