package io.kubeferry.proxy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.proxy.config.KubeProxyConfigurationWriter;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.conntrack.ConntrackHookProvider;
import io.kubeferry.proxy.conntrack.ConntrackHooks;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.events.KubernetesServiceEvents;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.health.DebugState;
import io.kubeferry.proxy.health.HttpEndpoints;
import io.kubeferry.proxy.health.ProxyHealth;
import io.kubeferry.proxy.health.ServiceHealthServers;
import io.kubeferry.proxy.metrics.RuntimeMetrics;
import io.kubeferry.proxy.metrics.SyncMetrics;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.state.ClusterState;
import io.kubeferry.proxy.state.StateSource;
import io.kubeferry.proxy.sync.SyncRunner;
import io.kubeferry.proxy.watch.ApiReachability;
import io.kubeferry.proxy.watch.ClusterWatch;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node agent: watch -> state -> sync -> dataplane -> conntrack hooks, on one Vert.x context. Blocking
 * tool calls (sync, housekeeping, canary check, leftover cleanup) run on one plain thread of the agent's own,
 * so never two at once; it is no Vert.x worker, so a restore that takes minutes at 10,000 Services is not
 * flagged as a blocked thread ({@link SyncRunner} reports one that outlasts syncPeriod, once).
 * Stopping the agent leaves the kernel rules in place, so traffic keeps flowing across restarts;
 * {@code cleanup} is what removes them.
 */
public final class Agent {

    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private final ProxyConfig config;
    private final Vertx vertx;
    private final Context context;
    /** One thread: dataplane calls are serialised by construction. */
    private final ExecutorService worker;
    private final Dataplane dataplane;
    private final ToolRunner tools;
    private final ApiReachability reachability;
    /** The conntrack hooks, each on its own thread: a sync only hands them its states. */
    private final ConntrackHooks hooks;
    private final PrometheusMeterRegistry registry;
    private final RuntimeMetrics runtimeMetrics;
    private final ClusterState state;
    private final SyncRunner runner;
    private final SyncMetrics metrics;
    private final ProxyHealth health;
    private final HttpEndpoints http;
    private final ServiceHealthServers serviceHealth;
    private final AtomicInteger successfulSyncs = new AtomicInteger();
    private final AtomicInteger failedSyncs = new AtomicInteger();
    private final Set<ServicePortName> unsyncedChanges = new HashSet<>();
    private final List<Instant> unsyncedTriggers = new ArrayList<>();
    private ClusterWatch watch;
    /** The state the kernel was last programmed with (read by /debug/state and tests off the context). */
    private volatile ProxyState lastState;
    /** The dataplane's scheduler per Service port as of {@link #lastState}, for /debug/state. */
    private volatile java.util.Map<io.kubeferry.proxy.model.ServicePortName, io.kubeferry.proxy.dataplane.SchedulerInForce> lastSchedulers = java.util.Map
            .of();
    private volatile SyncResult lastResult;
    private long canaryTimer = -1;
    private long housekeepingTimer = -1;
    /** Other modes whose state was found at start; removed once this mode has programmed the node. */
    private volatile List<Dataplane> leftovers = List.of();
    /** True while a full dataplane sync runs (benchmarks and /debug read it off the context). */
    private volatile boolean fullSyncRunning;
    /** The canary check found the kernel's state gone and no full sync has run since (on the context). */
    private boolean kernelLost;

    private Agent(ProxyConfig config, KubernetesClient client, ApiReachability reachability, Vertx vertx, ToolRunner tools,
            Duration fullSyncPeriod) {
        this.config = config;
        this.reachability = reachability;
        this.vertx = vertx;
        this.tools = tools;
        this.context = vertx.getOrCreateContext();
        this.worker = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "kube-ferry-sync");
            // Never holds the JVM up at exit: the kernel keeps whatever the last restore committed.
            thread.setDaemon(true);
            return thread;
        });
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.runtimeMetrics = new RuntimeMetrics(registry);
        KubernetesServiceEvents events = new KubernetesServiceEvents(client, vertx, config.hostnameOverride());
        DataplaneContext dataplaneContext = new DataplaneContext(config, tools, registry, events);
        this.dataplane = DataplaneProvider.forMode(config.mode()).create(dataplaneContext);
        this.hooks = new ConntrackHooks(ConntrackHookProvider.all().stream().map(p -> p.create(dataplaneContext)).toList(),
                config.conntrackHooks().timeLimit(), registry);
        this.state = new ClusterState(config.hostnameOverride(), config.serviceProxyName(), ClusterWatch.KINDS, registry, events::record);
        this.metrics = new SyncMetrics(registry, "iptables".equals(config.mode()));
        this.runner = new SyncRunner(context, config.minSyncPeriod(), config.syncPeriod(), fullSyncPeriod, this::sync);
        this.health = new ProxyHealth(config.syncPeriod().multipliedBy(2), runner::queuedSinceMillis);
        String configz = KubeProxyConfigurationWriter.json(config);
        this.http = new HttpEndpoints(vertx, health, registry,
                new HttpEndpoints.MetricsPaths(config.mode(), () -> configz, () -> DebugState.render(lastState, lastSchedulers)));
        this.serviceHealth = new ServiceHealthServers(vertx, config.nodePortAddresses(), health::proxyHealthy);
        this.lastState = ProxyState.empty(state.node());
    }

    /**
     * Starts an agent: notes another mode's leftovers, opens the HTTP endpoints and starts watching.
     * The first sync runs once the initial lists are in; the leftovers go after it.
     */
    public static Future<Agent> start(ProxyConfig config, KubernetesClient client, ApiReachability reachability, Vertx vertx,
            ToolRunner tools) {
        return start(config, client, reachability, vertx, tools, SyncRunner.FULL_SYNC_PERIOD);
    }

    /**
     * The same for a client built without an {@link ApiReachability}: an API outage while the watches are
     * open is then not logged (Fabric8 re-opens them silently), only failed lists and lost watches are.
     */
    public static Future<Agent> start(ProxyConfig config, KubernetesClient client, Vertx vertx, ToolRunner tools) {
        return start(config, client, new ApiReachability(), vertx, tools, SyncRunner.FULL_SYNC_PERIOD);
    }

    /**
     * The same with another period for the unforced full sync than upstream's hour: for tests and benchmarks
     * that need a full sync to fall due; the agent itself always uses {@link SyncRunner#FULL_SYNC_PERIOD}.
     */
    public static Future<Agent> start(ProxyConfig config, KubernetesClient client, Vertx vertx, ToolRunner tools,
            Duration fullSyncPeriod) {
        return start(config, client, new ApiReachability(), vertx, tools, fullSyncPeriod);
    }

    private static Future<Agent> start(ProxyConfig config, KubernetesClient client, ApiReachability reachability, Vertx vertx,
            ToolRunner tools, Duration fullSyncPeriod) {
        Agent agent;
        try {
            agent = new Agent(config, client, reachability, vertx, tools, fullSyncPeriod);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        return agent.begin(client).map(agent);
    }

    private Future<Void> begin(KubernetesClient client) {
        LOG.info("kube-ferry starting in {} mode on node {}{}", config.mode(), config.hostnameOverride(),
                config.netns().isEmpty() ? "" : " (programming network namespace " + config.netns() + ")");
        LOG.info("conntrack hooks: {} (time limit {} ms each)", String.join(", ", hooks.names()),
                config.conntrackHooks().timeLimit().toMillis());
        // Queued on the worker before anything can ask for a sync: the first sync runs on the same worker, after
        // it, and finds the leftovers it must remove.
        Future<Void> scanned = onWorker(() -> {
            leftovers = otherModesLeftovers();
            return null;
        });
        // The lists go out first: they are the longest wait before the first sync, and the HTTP endpoints open
        // while they are in flight.
        context.runOnContext(x -> {
            watch = new ClusterWatch(client, reachability, config.hostnameOverride(), config.serviceProxyName(), config.configSyncPeriod(),
                    context, state, this::changed, this::changedEverywhere);
            watch.start();
        });
        return scanned.compose(v -> http.start(config.healthzBindAddress(), config.metricsBindAddress())).compose(v -> {
            Promise<Void> started = Promise.promise();
            context.runOnContext(x -> {
                runner.start();
                canaryTimer = vertx.setPeriodic(config.syncPeriod().toMillis(), id -> checkCanary());
                Duration housekeeping = dataplane.housekeepingPeriod();
                if (!housekeeping.isZero()) {
                    housekeepingTimer = vertx.setPeriodic(housekeeping.toMillis(), id -> housekeeping());
                }
                started.complete();
            });
            return started.future();
        }).onFailure(e -> context.runOnContext(x -> {
            // The agent did not start (an HTTP port was taken): nothing may go on watching for it.
            runner.stop();
            if (watch != null) {
                watch.close();
            }
        }));
    }

    /**
     * The other modes that left state on this node. They are removed only after this mode's first sync, so
     * Services keep working while the node switches mode (the new rules take over before the old go).
     */
    private List<Dataplane> otherModesLeftovers() {
        List<Dataplane> found = new ArrayList<>();
        for (DataplaneProvider provider : DataplaneProvider.all()) {
            if (provider.mode().equals(config.mode())) {
                continue;
            }
            try {
                Dataplane other = provider
                        .create(new DataplaneContext(config, tools, new io.micrometer.core.instrument.simple.SimpleMeterRegistry()));
                if (other.hasLeftovers()) {
                    LOG.info("found {} mode's state on this node: it is removed after the first {} sync", provider.mode(), config.mode());
                    found.add(other);
                }
            } catch (Exception e) {
                LOG.warn("could not look for {} mode's leftovers: {}", provider.mode(), e.getMessage());
            }
        }
        return List.copyOf(found);
    }

    private void removeLeftovers() {
        for (Dataplane other : leftovers) {
            try {
                CleanupReport report = other.cleanupNotUsedBy(dataplane.sharedState());
                if (report.ok()) {
                    LOG.info("leftovers: {}", report.summary());
                } else {
                    LOG.warn("could not clean up all of {} mode's leftovers: {}", other.mode(), report.summary());
                }
            } catch (RuntimeException e) {
                LOG.warn("could not clean up {} mode's leftovers: {}", other.mode(), e.getMessage());
            }
        }
        leftovers = List.of();
    }

    /** Runs a blocking call on the dataplane's one worker thread; the result comes back on the context. */
    private <T> Future<T> onWorker(Callable<T> call) {
        Promise<T> result = Promise.promise();
        try {
            worker.execute(() -> {
                Throwable failure = null;
                T value = null;
                try {
                    value = call.call();
                } catch (Throwable e) {
                    failure = e;
                }
                T done = value;
                Throwable failed = failure;
                try {
                    context.runOnContext(v -> {
                        if (failed == null) {
                            result.complete(done);
                        } else {
                            result.fail(failed);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // Vert.x closed while this call ran (the agent stopped): nobody is waiting for the result.
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.fail(new IllegalStateException("agent stopped"));
        }
        return result.future();
    }

    private void housekeeping() {
        onWorker(() -> {
            dataplane.housekeeping();
            return null;
        }).onFailure(e -> LOG.warn("{} housekeeping failed: {}", dataplane.mode(), e.getMessage()));
    }

    private void changed() {
        metrics.queued();
        runner.request();
    }

    /** A change that touches every Service (this node's addresses or topology labels): upstream goes full. */
    private void changedEverywhere() {
        metrics.queued();
        runner.requestFull();
    }

    private void checkCanary() {
        onWorker(dataplane::kernelStateLost).onSuccess(lost -> {
            if (lost) {
                // The dataplane's next sync is full by itself (kernelStateLost's contract). Not requestFull: when a
                // sync already waits for the worker it is that full one, and a second full would follow it with
                // changes waiting behind both. kernelLost covers the case where no sync is waiting.
                kernelLost = true;
                runner.request();
            }
        });
    }

    /** One sync, on the context; the dataplane runs on the ordered worker, the hooks on their own threads. */
    private Future<Boolean> sync(boolean full) {
        if (!state.ready()) {
            return Future.succeededFuture(false);
        }
        StateSource.Snapshot snapshot = state.take();
        unsyncedChanges.addAll(snapshot.changed());
        unsyncedTriggers.addAll(snapshot.triggerTimes());
        health.nodeEligible(snapshot.state().node().eligible());
        boolean doFull = full || successfulSyncs.get() == 0 || kernelLost;
        SyncRequest request = new SyncRequest(snapshot.state(), unsyncedChanges, doFull);
        long start = System.nanoTime();
        fullSyncRunning = doFull;
        return onWorker(() -> dataplane.sync(request)).compose(result -> {
            fullSyncRunning = false;
            if (result.full()) {
                kernelLost = false;
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            metrics.synced(result.full(), took, unsyncedTriggers);
            metrics.programmed(request.state());
            health.updated();
            hooks.synced(lastState, request.state(), request.changed(), result.full());
            lastState = request.state();
            lastSchedulers = dataplane.schedulers();
            lastResult = result;
            unsyncedChanges.clear();
            unsyncedTriggers.clear();
            boolean first = successfulSyncs.incrementAndGet() == 1;
            serviceHealth.update(request.state());
            LOG.debug("{} sync of {} Service ports in {} ms (render {} ms, apply {} ms)", result.full() ? "full" : "partial",
                    request.state().services().size(), took.toMillis(), result.renderTime().toMillis(), result.applyTime().toMillis());
            return onWorker(() -> {
                if (!leftovers.isEmpty()) {
                    removeLeftovers();
                }
                if (first) {
                    releaseStartupHeap();
                }
                return result.full();
            });
        }).onFailure(e -> {
            fullSyncRunning = false;
            failedSyncs.incrementAndGet();
            metrics.failed();
            // SyncRunner logs the failure once, with its retry delay.
        });
    }

    /**
     * The initial lists, the first program's text and its restore are the largest transient of the agent's life,
     * about as large again as what it keeps. The shipped JVM (Serial GC, jvm.options) gives heap back to the node
     * only at a full collection, which an agent at rest may not have for hours: one, here, after the first sync
     * returns that transient at once (down to MaxHeapFreeRatio above what is live). A few tens of milliseconds
     * on the worker, once; the event loop pauses with it.
     */
    private static void releaseStartupHeap() {
        System.gc();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public int successfulSyncs() {
        return successfulSyncs.get();
    }

    public int failedSyncs() {
        return failedSyncs.get();
    }

    public SyncResult lastResult() {
        return lastResult;
    }

    public ProxyState lastState() {
        return lastState;
    }

    public List<Integer> httpPorts() {
        return http.ports();
    }

    /** True while a full dataplane sync runs. */
    public boolean fullSyncRunning() {
        return fullSyncRunning;
    }

    /** True when no conntrack hook runs and no change waits for one (a hint for tests and benchmarks). */
    public boolean hooksIdle() {
        return hooks.idle();
    }

    /** True when no sync runs and none is queued (read off the context: a hint for tests and benchmarks). */
    public boolean syncIdle() {
        return runner.queuedSinceMillis() == 0;
    }

    /**
     * Stops syncing, watching and serving, in that order: no sync starts once stopping began, the informers
     * close while the client they use is still open (the caller closes the client and Vert.x after this), and
     * the worker goes last. The kernel rules stay so traffic flows until the next agent takes over.
     */
    public Future<Void> stop() {
        Promise<Void> stopped = Promise.promise();
        context.runOnContext(v -> {
            LOG.info("stopping: no more syncs; closing the watches and HTTP endpoints");
            runner.stop();
            if (canaryTimer >= 0) {
                vertx.cancelTimer(canaryTimer);
            }
            if (housekeepingTimer >= 0) {
                vertx.cancelTimer(housekeepingTimer);
            }
            if (watch != null) {
                watch.close();
            }
            serviceHealth.close();
            runtimeMetrics.close();
            hooks.close();
            http.stop().onComplete(ar -> {
                // Not shutdownNow: interrupting a restore would fail it for nothing; the thread ends once the
                // call it runs (a restore may take minutes) is done, and nobody needs to wait for that.
                worker.shutdown();
                LOG.info("stopped; {} rules left in place (kube-ferry cleanup removes them)", dataplane.mode());
                stopped.complete();
            });
        });
        return stopped.future();
    }
}
