package io.kubeferry.proxy.sync;

import io.vertx.core.Context;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Upstream's sync cadence (kube-proxy's BoundedFrequencyRunner plus the iptables proxier's
 * needFullSync/lastFullSync) on one Vert.x context:
 * <ul>
 *   <li>requests coalesce into one sync at most every {@code minInterval}, and never two syncs at once;</li>
 *   <li>every {@code period} (syncPeriod) a sync runs anyway, and it is <em>partial</em>;</li>
 *   <li>a sync is full when it must be: the first one, the retry after a failure (exponential backoff,
 *       1 s doubling, capped at the period), after {@link #requestFull()} (canary lost, a change touching
 *       every Service), and otherwise at most once per {@code fullPeriod} (upstream's FullSyncPeriod, 1 h);</li>
 *   <li>pending changes are never starved by full syncs: when the hourly full falls due while changes are
 *       waiting, those changes get a partial sync first and the full follows as the next sync; a change that
 *       arrives while a sync runs is served by the next one, started as soon as the running one ends (or
 *       {@code minInterval} after it started, whichever is later);</li>
 *   <li>only syncs that carried changes hold the next change back by {@code minInterval}: a change that lands
 *       just after a periodic sync with nothing to apply goes at once (the benchmarks against upstream found
 *       such changes waiting the whole second; kube-proxy 1.35 has no periodic sync to collide with).</li>
 * </ul>
 * A sync still running after {@code period} is reported once. All methods must be called on the context.
 */
public final class SyncRunner {

    private static final Logger LOG = LoggerFactory.getLogger(SyncRunner.class);
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    /** Upstream's proxyutil.FullSyncPeriod: without a reason to, everything is rewritten at most this often. */
    public static final Duration FULL_SYNC_PERIOD = Duration.ofHours(1);
    private static final long NEVER = Long.MIN_VALUE / 4;

    private final Context context;
    private final Duration minInterval;
    private final Duration period;
    private final Duration fullPeriod;
    private final Function<Boolean, Future<Boolean>> sync;
    private final LongSupplier clock;

    /** A change (or an explicit request) waits for a sync. */
    private boolean changesPending;
    /** The periodic timer (or a deferred hourly full) asked for a sync. */
    private boolean tickPending;
    /** The next sync must be full: first sync, after a failure, or asked for. */
    private boolean fullForced = true;
    /** The due hourly full let one partial sync go first; the next sync is the full. */
    private boolean fullDeferred;
    private boolean running;
    private boolean scheduled;
    private long timer = -1;
    private long periodicTimer = -1;
    private long slowTimer = -1;
    /** When the last sync that carried changes (or a forced full) started: minInterval counts from it. */
    private long lastStart = NEVER;
    private long lastFullSync;
    private long backoffUntil;
    private Duration backoff = Duration.ZERO;
    private int failures;
    private long queuedSince;
    private boolean stopped;

    /**
     * @param sync runs one sync (argument: must it be full); its future completes on the context with
     *             whether the sync was in fact full (the dataplane may go full by itself), or null for "as asked"
     */
    public SyncRunner(Context context, Duration minInterval, Duration period, Duration fullPeriod,
            Function<Boolean, Future<Boolean>> sync) {
        this(context, minInterval, period, fullPeriod, sync, () -> System.nanoTime() / 1_000_000);
    }

    SyncRunner(Context context, Duration minInterval, Duration period, Duration fullPeriod,
            Function<Boolean, Future<Boolean>> sync, LongSupplier clockMillis) {
        this.context = context;
        this.minInterval = minInterval;
        this.period = period;
        this.fullPeriod = fullPeriod;
        this.sync = sync;
        this.clock = clockMillis;
        // The first sync is full anyway (fullForced); the hour runs from the start, so a first sync that found
        // the state not ready yet does not make the next one look an hour late.
        this.lastFullSync = clockMillis.getAsLong();
    }

    /** Starts the periodic (partial) sync. */
    public void start() {
        periodicTimer = context.owner().setPeriodic(period.toMillis(), id -> tick());
    }

    /** Asks for a sync soon (partial unless a full one is owed). */
    public void request() {
        if (stopped) {
            return;
        }
        markQueued();
        changesPending = true;
        schedule();
    }

    /** Asks for a full sync soon (kernel state lost, or a change that touches every Service). */
    public void requestFull() {
        fullForced = true;
        request();
    }

    /** The periodic timer: a sync with nothing new to apply, full only when the hourly full is due. */
    void tick() {
        if (stopped) {
            return;
        }
        markQueued();
        tickPending = true;
        schedule();
    }

    private void markQueued() {
        if (!changesPending && !tickPending) {
            queuedSince = System.currentTimeMillis();
        }
    }

    /** Wall-clock millis since the oldest request not yet served by a successful sync, or 0 when none is queued. */
    public long queuedSinceMillis() {
        return changesPending || tickPending || running ? queuedSince : 0;
    }

    public Duration currentBackoff() {
        return backoff;
    }

    /** True while a sync runs (read on the context). */
    public boolean running() {
        return running;
    }

    public void stop() {
        stopped = true;
        for (long id : new long[] {timer, periodicTimer, slowTimer}) {
            if (id >= 0) {
                context.owner().cancelTimer(id);
            }
        }
    }

    private void schedule() {
        if (running || scheduled || !(changesPending || tickPending) || stopped) {
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
        if (!(changesPending || tickPending) || running || stopped) {
            return;
        }
        long now = clock.getAsLong();
        boolean hourlyDue = now - lastFullSync >= fullPeriod.toMillis();
        boolean full;
        if (fullForced) {
            full = true;
        } else if (hourlyDue && changesPending && !fullDeferred) {
            // Changes first: the full (minutes at 10,000 Services) follows as the very next sync.
            full = false;
            fullDeferred = true;
        } else {
            full = hourlyDue;
        }
        boolean carriesChanges = changesPending || full;
        changesPending = false;
        // A deferred full keeps a sync queued behind this one.
        tickPending = hourlyDue && !full;
        if (full) {
            fullForced = false;
        }
        running = true;
        if (carriesChanges) {
            lastStart = now;
        }
        long started = now;
        slowTimer = context.owner().setTimer(Math.max(1, period.toMillis()), id -> {
            slowTimer = -1;
            if (running && lastStart == started) {
                LOG.warn("{} sync still running after {} s (syncPeriod {} s); changes that arrive meanwhile are applied right after it",
                        full ? "full" : "partial", (clock.getAsLong() - started) / 1000, period.toSeconds());
            }
        });
        Future<Boolean> result;
        try {
            result = sync.apply(full);
        } catch (RuntimeException e) {
            result = Future.failedFuture(e);
        }
        result.onComplete(ar -> context.runOnContext(v -> finished(full, started, ar.succeeded() ? ar.result() : null, ar.cause())));
    }

    private void finished(boolean askedFull, long started, Boolean wasFull, Throwable failure) {
        running = false;
        if (slowTimer >= 0) {
            context.owner().cancelTimer(slowTimer);
            slowTimer = -1;
        }
        if (stopped) {
            // A sync that was running when the agent stopped: nothing follows it, and nobody waits for it.
            LOG.debug("sync finished after stop ({})", failure == null ? "ok" : failure.getMessage());
            return;
        }
        long took = clock.getAsLong() - started;
        if (took >= period.toMillis()) {
            LOG.info("{} sync finished after {} s", askedFull ? "full" : "partial", took / 1000);
        }
        if (failure == null) {
            if (wasFull == null ? askedFull : wasFull) {
                lastFullSync = started;
                fullDeferred = false;
            }
            backoff = Duration.ZERO;
            backoffUntil = 0;
            failures = 0;
        } else {
            failures++;
            backoff = backoff.isZero() ? FIRST_BACKOFF : backoff.multipliedBy(2);
            if (backoff.compareTo(period) > 0) {
                backoff = period;
            }
            backoffUntil = clock.getAsLong() + backoff.toMillis();
            fullForced = true;
            changesPending = true;
            // The one log line of a failed sync (the caller counts it, and does not log it again).
            LOG.warn("sync failed ({} in a row), retrying in {} ms with a full sync: {}", failures, backoff.toMillis(),
                    failure.getMessage() == null ? failure.toString() : failure.getMessage());
            LOG.debug("sync failure", failure);
        }
        schedule();
    }
}
