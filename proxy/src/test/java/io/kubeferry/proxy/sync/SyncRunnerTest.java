package io.kubeferry.proxy.sync;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

    private SyncRunner runner(Duration min, Duration period, Function<Boolean, Future<Void>> sync) {
        return new SyncRunner(context, min, period, sync);
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
                return (Void) null;
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
    void periodicResyncIsFull() throws Exception {
        List<Boolean> syncs = new CopyOnWriteArrayList<>();
        CountDownLatch three = new CountDownLatch(3);
        SyncRunner runner = runner(Duration.ZERO, Duration.ofMillis(200), full -> {
            syncs.add(full);
            three.countDown();
            return Future.succeededFuture();
        });
        onContext(runner::start);
        assertTrue(three.await(5, TimeUnit.SECONDS));
        onContext(runner::stop);
        assertTrue(syncs.stream().allMatch(f -> f), "every periodic sync is full: " + syncs);
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
