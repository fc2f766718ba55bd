package io.kubeferry.proxy.sync;

import io.kubeferry.proxy.testing.LogCapture;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runner's behaviour on a real Vert.x context: counts and order, never wall-clock pass criteria. */
class SyncRunnerTest {

    private final Vertx vertx = Vertx.vertx();
    private final Context context = vertx.getOrCreateContext();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private SyncRunner runner(Duration min, Duration period, Function<Boolean, Future<Boolean>> sync) {
        return new SyncRunner(context, min, period, SyncRunner.FULL_SYNC_PERIOD, sync);
    }

    private void onContext(Runnable action) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        context.runOnContext(v -> {
            action.run();
            done.countDown();
        });
        assertTrue(done.await(5, TimeUnit.SECONDS));
    }

    @Test
    void aBurstOfRequestsCoalescesAndTheFirstSyncIsFull() throws Exception {
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        CountDownLatch twoSyncs = new CountDownLatch(2);
        SyncRunner runner = runner(Duration.ofMillis(300), Duration.ofMinutes(10), full -> {
            syncs.add(full);
            twoSyncs.countDown();
            return Future.succeededFuture();
        });
        onContext(() -> {
            for (int i = 0; i < 100; i++) {
                runner.request();
            }
        });
        Thread.sleep(100);
        onContext(() -> {
            for (int i = 0; i < 100; i++) {
                runner.request();
            }
        });
        assertTrue(twoSyncs.await(5, TimeUnit.SECONDS));
        Thread.sleep(500);
        assertEquals(List.of(true, false), syncs, "200 requests in two bursts: one full sync, then one partial");
    }

    @Test
    void zeroMinimumStillNeverRunsTwoAtOnce() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxConcurrent = new AtomicInteger();
        AtomicInteger count = new AtomicInteger();
        SyncRunner runner = runner(Duration.ZERO, Duration.ofMinutes(10), full -> {
            maxConcurrent.accumulateAndGet(running.incrementAndGet(), Math::max);
            count.incrementAndGet();
            return vertx.timer(20).map(t -> {
                running.decrementAndGet();
                return (Boolean) null;
            });
        });
        for (int i = 0; i < 20; i++) {
            onContext(runner::request);
            Thread.sleep(5);
        }
        Thread.sleep(300);
        assertEquals(1, maxConcurrent.get());
        assertTrue(count.get() >= 2 && count.get() < 20, "requests during a sync fold into the next one: " + count.get());
    }

    @Test
    void aFailureBacksOffAndRetriesFull() throws Exception {
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        CountDownLatch three = new CountDownLatch(3);
        AtomicInteger calls = new AtomicInteger();
        SyncRunner[] holder = new SyncRunner[1];
        holder[0] = runner(Duration.ZERO, Duration.ofMinutes(10), full -> {
            syncs.add(full);
            three.countDown();
            // first ok, second fails, third (the retry) ok
            return calls.incrementAndGet() == 2 ? Future.failedFuture("iptables-restore: line 3 failed") : Future.succeededFuture();
        });
        onContext(holder[0]::request);
        Thread.sleep(100);
        onContext(holder[0]::request);
        assertTrue(three.await(10, TimeUnit.SECONDS), "the failed sync is retried without a new request");
        assertEquals(List.of(true, false, true), syncs, "the retry after a failure is full");
        Thread.sleep(100);
        assertEquals(Duration.ZERO, holder[0].currentBackoff(), "backoff resets after a success");
    }

    @Test
    void periodicSyncIsPartialAfterTheFirst() throws Exception {
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        CountDownLatch three = new CountDownLatch(3);
        SyncRunner runner = runner(Duration.ZERO, Duration.ofMillis(200), full -> {
            syncs.add(full);
            three.countDown();
            return Future.succeededFuture(full);
        });
        onContext(runner::start);
        assertTrue(three.await(5, TimeUnit.SECONDS));
        onContext(runner::stop);
        assertEquals(true, syncs.get(0), "the first sync is full: " + syncs);
        assertTrue(syncs.subList(1, syncs.size()).stream().noneMatch(f -> f), "periodic syncs are partial: " + syncs);
    }

    /** A runner on a clock the test moves; the periodic timer is driven by hand through tick(). */
    private SyncRunner manual(AtomicLong clock, Duration min, Function<Boolean, Future<Boolean>> sync) {
        return new SyncRunner(context, min, Duration.ofSeconds(30), SyncRunner.FULL_SYNC_PERIOD, sync, clock::get);
    }

    /** Runs the action on the context, then waits until the runner has nothing running or queued. */
    private void settle(SyncRunner runner, Runnable action) throws InterruptedException {
        onContext(action);
        for (int i = 0; i < 200; i++) {
            boolean[] idle = new boolean[1];
            onContext(() -> idle[0] = !runner.running() && runner.queuedSinceMillis() == 0);
            if (idle[0]) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("runner never settled");
    }

    @Test
    void fullAtMostHourlyUnlessForced() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        SyncRunner runner = manual(clock, Duration.ZERO, full -> {
            syncs.add(full);
            return Future.succeededFuture(full);
        });
        settle(runner, runner::request);
        clock.addAndGet(Duration.ofMinutes(59).toMillis());
        settle(runner, runner::tick);
        settle(runner, runner::request);
        clock.addAndGet(Duration.ofMinutes(2).toMillis());
        settle(runner, runner::tick);
        settle(runner, runner::tick);
        settle(runner, runner::requestFull);
        settle(runner, runner::tick);
        assertEquals(List.of(true, false, false, true, false, true, false), syncs,
                "first full; partial within the hour; full once it passed; then partial; forced full at once");
    }

    @Test
    void aFullSyncTheDataplaneChoseCountsAsTheHourlyOne() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        SyncRunner runner = manual(clock, Duration.ZERO, full -> {
            syncs.add(full);
            // the second sync is asked partial, but the dataplane went full (e.g. its canary was gone)
            return Future.succeededFuture(full || syncs.size() == 2);
        });
        settle(runner, runner::request);
        clock.addAndGet(Duration.ofMinutes(50).toMillis());
        settle(runner, runner::tick);
        clock.addAndGet(Duration.ofMinutes(20).toMillis());
        settle(runner, runner::tick);
        assertEquals(List.of(true, false, false), syncs, "70 min after the first full but 20 after the dataplane's own");
    }

    @Test
    void anHourlyFullLetsPendingChangesGoFirst() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        SyncRunner runner = manual(clock, Duration.ZERO, full -> {
            syncs.add(full);
            return Future.succeededFuture(full);
        });
        settle(runner, runner::request);
        clock.addAndGet(Duration.ofMinutes(61).toMillis());
        settle(runner, runner::request);
        assertEquals(List.of(true, false, true), syncs, "the change gets a partial sync, the due full follows at once");
        settle(runner, runner::tick);
        assertEquals(List.of(true, false, true, false), syncs, "and the hour starts again");
    }

    @Test
    void aForcedFullCarriesPendingChanges() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        SyncRunner runner = manual(clock, Duration.ZERO, full -> {
            syncs.add(full);
            return Future.succeededFuture(full);
        });
        settle(runner, runner::request);
        settle(runner, () -> {
            runner.request();
            runner.requestFull();
        });
        assertEquals(List.of(true, true), syncs, "one full sync serves the change and the forced full");
    }

    @Test
    void aChangeDuringALongFullSyncIsServedRightAfterIt() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        List<Long> startedAt = new CopyOnWriteArrayList<>();
        Promise<Boolean> longFull = Promise.promise();
        SyncRunner runner = manual(clock, Duration.ofSeconds(1), full -> {
            syncs.add(full);
            startedAt.add(clock.get());
            return syncs.size() == 1 ? longFull.future() : Future.succeededFuture(full);
        });
        onContext(runner::request);
        waitFor(() -> syncs.size() == 1);
        // the full sync runs for 340 s; a change arrives during it
        clock.addAndGet(Duration.ofSeconds(200).toMillis());
        onContext(runner::request);
        clock.addAndGet(Duration.ofSeconds(140).toMillis());
        Thread.sleep(50);
        assertEquals(1, syncs.size(), "never two syncs at once");
        long finishedAt = clock.get();
        settle(runner, () -> longFull.complete(true));
        assertEquals(List.of(true, false), syncs, "the change is served by a partial sync");
        assertEquals(finishedAt, startedAt.get(1), "started as soon as the full one finished, not minSyncPeriod later");
    }

    @Test
    void aChangeRightAfterAQuickSyncWaitsMinSyncPeriod() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        SyncRunner runner = manual(clock, Duration.ofMillis(300), full -> {
            syncs.add(full);
            return Future.succeededFuture(full);
        });
        settle(runner, runner::request);
        onContext(runner::request);
        Thread.sleep(100);
        assertEquals(1, syncs.size(), "inside minSyncPeriod of the last start the change waits");
        waitFor(() -> syncs.size() == 2);
        assertEquals(List.of(true, false), syncs);
    }

    @Test
    void aChangeRightAfterAPeriodicSyncWithNothingToApplyGoesAtOnce() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        SyncRunner runner = manual(clock, Duration.ofSeconds(60), full -> {
            syncs.add(full);
            return Future.succeededFuture(full);
        });
        settle(runner, runner::request);
        // Long after the first sync, the periodic tick: a sync with nothing new.
        clock.addAndGet(120_000);
        settle(runner, runner::tick);
        assertEquals(2, syncs.size());
        // The clock stands still: a change now is inside minSyncPeriod of the tick's sync, but not of a change's.
        settle(runner, runner::request);
        assertEquals(List.of(true, false, false), syncs, "the change was synced without waiting the minute");
        // A second change right after the first one's sync does wait (the clock does not move, so it stays queued).
        onContext(runner::request);
        Thread.sleep(200);
        assertEquals(3, syncs.size(), "a change right after a change's sync waits minSyncPeriod");
        onContext(runner::stop);
    }

    @Test
    void aSyncOutlastingSyncPeriodIsReportedOnce() throws Exception {
        try (LogCapture log = new LogCapture(SyncRunner.class)) {
            CountDownLatch done = new CountDownLatch(1);
            SyncRunner runner = runner(Duration.ZERO, Duration.ofMillis(100), full -> vertx.timer(450).map(t -> {
                done.countDown();
                return full;
            }));
            onContext(runner::request);
            assertTrue(done.await(5, TimeUnit.SECONDS));
            Thread.sleep(200);
            List<String> warnings = log.lines(ch.qos.logback.classic.Level.WARN);
            assertEquals(1, warnings.size(), "one WARN for a sync running 4.5 syncPeriods: " + warnings);
            assertTrue(warnings.get(0).startsWith("full sync still running after"), warnings.get(0));
            assertTrue(log.events().stream().allMatch(e -> e.getThrowableProxy() == null), "no stack trace");
        }
    }

    @Test
    void aFailedSyncIsOneWarnLineWithTheRetryDelay() throws Exception {
        try (LogCapture log = new LogCapture(SyncRunner.class)) {
            CountDownLatch failed = new CountDownLatch(1);
            SyncRunner runner = runner(Duration.ZERO, Duration.ofMinutes(10), full -> {
                failed.countDown();
                return Future.failedFuture(new IllegalStateException("full iptables sync failed: iptables-restore: line 3 failed"));
            });
            onContext(runner::request);
            assertTrue(failed.await(5, TimeUnit.SECONDS));
            Thread.sleep(100);
            onContext(runner::stop);
            List<ch.qos.logback.classic.spi.ILoggingEvent> shown = log.events().stream()
                    .filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.INFO)).toList();
            assertEquals(1, shown.size(), shown.toString());
            assertEquals(
                    "sync failed (1 in a row), retrying in 1000 ms with a full sync: full iptables sync failed: iptables-restore: line 3 failed",
                    shown.get(0).getFormattedMessage());
            assertEquals(null, shown.get(0).getThrowableProxy(), "the stack trace is for DEBUG");
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 500 && !condition.getAsBoolean(); i++) {
            Thread.sleep(10);
        }
        assertTrue(condition.getAsBoolean(), "condition never held");
    }

    @Test
    void queuedTimeIsClearedBySuccess() throws Exception {
        CountDownLatch synced = new CountDownLatch(1);
        SyncRunner runner = runner(Duration.ofMillis(200), Duration.ofMinutes(10), full -> {
            synced.countDown();
            return Future.succeededFuture();
        });
        long[] queued = new long[1];
        onContext(() -> {
            runner.request();
            queued[0] = runner.queuedSinceMillis();
        });
        assertTrue(queued[0] > 0);
        assertTrue(synced.await(5, TimeUnit.SECONDS));
        Thread.sleep(100);
        onContext(() -> queued[0] = runner.queuedSinceMillis());
        assertEquals(0, queued[0]);
        assertFalse(runner.currentBackoff().isNegative());
    }
}
