package io.kubeferry.proxy.sync;

import io.vertx.core.Context;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A bounded-frequency runner on one Vert.x context: requests coalesce into one sync at most every
 * {@code minInterval}; a full resync happens every {@code period}; a failed sync is retried with
 * exponential backoff (1 s doubling, capped at the period) and the retry is full. Never two syncs at once.
 * All methods must be called on the context.
 */
public final class SyncRunner {

    private static final Logger LOG = LoggerFactory.getLogger(SyncRunner.class);
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);

    private final Context context;
    private final Duration minInterval;
    private final Duration period;
    private final Function<Boolean, Future<Void>> sync;
    private final LongSupplier clock;

    private boolean pending;
    private boolean fullPending = true;
    private boolean running;
    private long timer = -1;
    private boolean scheduled;
    private long periodicTimer = -1;
    private long lastStart = Long.MIN_VALUE / 2;
    private long backoffUntil;
    private Duration backoff = Duration.ZERO;
    private long queuedSince;
    private boolean stopped;

    /**
     * @param sync runs one sync (argument: must it be full); its future completes on the context
     */
    public SyncRunner(Context context, Duration minInterval, Duration period, Function<Boolean, Future<Void>> sync) {
        this(context, minInterval, period, sync, () -> System.nanoTime() / 1_000_000);
    }

    SyncRunner(Context context, Duration minInterval, Duration period, Function<Boolean, Future<Void>> sync, LongSupplier clockMillis) {
        this.context = context;
        this.minInterval = minInterval;
        this.period = period;
        this.sync = sync;
        this.clock = clockMillis;
    }

    /** Starts the periodic full resync. */
    public void start() {
        periodicTimer = context.owner().setPeriodic(period.toMillis(), id -> requestFull());
    }

    /** Asks for a sync soon (partial unless a full one is owed). */
    public void request() {
        if (stopped) {
            return;
        }
        if (!pending) {
            queuedSince = System.currentTimeMillis();
        }
        pending = true;
        schedule();
    }

    /** Asks for a full sync soon. */
    public void requestFull() {
        fullPending = true;
        request();
    }

    /** Wall-clock millis since the oldest request not yet served by a successful sync, or 0 when none is queued. */
    public long queuedSinceMillis() {
        return pending || running ? queuedSince : 0;
    }

    public Duration currentBackoff() {
        return backoff;
    }

    public void stop() {
        stopped = true;
        if (timer >= 0) {
            context.owner().cancelTimer(timer);
        }
        if (periodicTimer >= 0) {
            context.owner().cancelTimer(periodicTimer);
        }
    }

    private void schedule() {
        if (running || scheduled || !pending || stopped) {
            return;
        }
        long now = clock.getAsLong();
        long delay = Math.max(0, Math.max(lastStart + minInterval.toMillis() - now, backoffUntil - now));
        scheduled = true;
        if (delay == 0) {
            context.runOnContext(v -> fire());
        } else {
            timer = context.owner().setTimer(delay, id -> fire());
        }
    }

    private void fire() {
        timer = -1;
        scheduled = false;
        if (!pending || running || stopped) {
            return;
        }
        pending = false;
        boolean full = fullPending;
        fullPending = false;
        running = true;
        lastStart = clock.getAsLong();
        Future<Void> result;
        try {
            result = sync.apply(full);
        } catch (RuntimeException e) {
            result = Future.failedFuture(e);
        }
        result.onComplete(ar -> context.runOnContext(v -> {
            running = false;
            if (ar.succeeded()) {
                backoff = Duration.ZERO;
                backoffUntil = 0;
            } else {
                backoff = backoff.isZero() ? FIRST_BACKOFF : backoff.multipliedBy(2);
                if (backoff.compareTo(period) > 0) {
                    backoff = period;
                }
                backoffUntil = clock.getAsLong() + backoff.toMillis();
                fullPending = true;
                pending = true;
                LOG.warn("sync failed, retrying in {} ms with a full sync: {}", backoff.toMillis(),
                        ar.cause() == null ? "unknown" : ar.cause().getMessage());
            }
            schedule();
        }));
    }
}
