package io.kubeferry.proxy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.proxy.config.KubeProxyConfigurationWriter;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.conntrack.ConntrackHookProvider;
import io.kubeferry.proxy.conntrack.ConntrackHooks;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.NodeFamilies;
import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.events.KubernetesServiceEvents;
import io.kubeferry.proxy.events.RepeatFilteringServiceEvents;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.health.DebugState;
import io.kubeferry.proxy.health.HttpEndpoints;
import io.kubeferry.proxy.health.ProxyHealth;
import io.kubeferry.proxy.health.ServiceHealthServers;
import io.kubeferry.proxy.metrics.RuntimeMetrics;
import io.kubeferry.proxy.metrics.SyncMetrics;
import io.kubeferry.proxy.model.IpFamily;
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
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
 * <p>
 * Dual-stack as upstream's MetaProxier: one dataplane instance per IP family the node runs ({@link NodeFamilies}),
 * each given only its family's state; every sync programs IPv4, then IPv6, on the one worker, and fails when either
 * fails; a family that synced counts as synced even then, and only a failed family's retry is full. Changes, the
 * last state, the canary, housekeeping, leftovers and conntrack hooks are kept per family.
 */
public final class Agent {

    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private final ProxyConfig config;
    private final Vertx vertx;
    private final Context context;
    /** One thread: dataplane calls are serialised by construction. */
    private final ExecutorService worker;
    /** The dataplane per family the node runs, in family order (IPv4 first). */
    private final Map<IpFamily, Dataplane> dataplanes;
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
    /** Per running family, the changes no successful sync has programmed yet. */
    private final Map<IpFamily, Set<ServicePortName>> unsyncedChanges = new EnumMap<>(IpFamily.class);
    private final List<Instant> unsyncedTriggers = new ArrayList<>();
    /** The families whose next sync must be full: each at first, and a family whose last sync failed (on the context). */
    private final Set<IpFamily> fullOwed = EnumSet.noneOf(IpFamily.class);
    /** The last sync failed: the runner's next full is (at least) its retry (on the context). */
    private boolean retrying;
    /** A change asked for a full sync of every family since the last full one began (on the context). */
    private boolean fullAsked;
    private ClusterWatch watch;
    /** Per family, the state the kernel was last programmed with (read by /debug/state and tests off the context). */
    private volatile Map<IpFamily, ProxyState> lastStates;
    /** Per family, the dataplane's scheduler per Service port as of {@link #lastStates}, for /debug/state. */
    private volatile Map<IpFamily, Map<ServicePortName, SchedulerInForce>> lastSchedulers = Map.of();
    private volatile Map<IpFamily, SyncResult> lastResults = Map.of();
    private long canaryTimer = -1;
    private long housekeepingTimer = -1;
    /** Other modes' state found at start, per family; removed once this mode has programmed the node. */
    private volatile List<Leftover> leftovers = List.of();
    /** True while a full dataplane sync runs (benchmarks and /debug read it off the context). */
    private volatile boolean fullSyncRunning;
    /** The canary check found the kernel's state gone and no full sync has run since (on the context). */
    private boolean kernelLost;

    /** Another mode's instance for one family that found its state on the node. */
    private record Leftover(IpFamily family, Dataplane dataplane) {
    }

    private Agent(ProxyConfig config, KubernetesClient client, ApiReachability reachability, Vertx vertx, ToolRunner tools,
            Duration fullSyncPeriod, Set<IpFamily> checkedFamilies, DataplaneProvider given) throws Exception {
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
        // One filter for every family's dataplane: a dual-stack Service whose scheduler falls back in both gets one Event.
        DataplaneContext dataplaneContext = new DataplaneContext(config, tools, registry, new RepeatFilteringServiceEvents(events));
        DataplaneProvider provider = given != null ? given : DataplaneProvider.forMode(config.mode());
        NodeFamilies families;
        if (checkedFamilies == null) {
            families = NodeFamilies.probe(provider, dataplaneContext);
            families.logSkipped(LOG);
            families.requireOne();
        } else {
            families = NodeFamilies.unchecked(provider, dataplaneContext, checkedFamilies);
        }
        this.dataplanes = families.running();
        Map<IpFamily, ProxyState> empty = new EnumMap<>(IpFamily.class);
        for (IpFamily family : dataplanes.keySet()) {
            unsyncedChanges.put(family, new HashSet<>());
            fullOwed.add(family);
        }
        this.hooks = new ConntrackHooks(ConntrackHookProvider.all().stream().map(p -> p.create(dataplaneContext)).toList(),
                config.conntrackHooks().timeLimit(), registry);
        this.state = new ClusterState(config.hostnameOverride(), config.serviceProxyName(), ClusterWatch.KINDS, registry, events::record);
        this.metrics = new SyncMetrics(registry, "iptables".equals(config.mode()), dataplanes.keySet());
        this.runner = new SyncRunner(context, config.minSyncPeriod(), config.syncPeriod(), fullSyncPeriod, this::sync);
        this.health = new ProxyHealth(config.syncPeriod().multipliedBy(2), runner::queuedSinceMillis);
        String configz = KubeProxyConfigurationWriter.json(config);
        this.http = new HttpEndpoints(vertx, health, registry,
                new HttpEndpoints.MetricsPaths(config.mode(), () -> configz, () -> DebugState.render(lastStates, lastSchedulers)));
        this.serviceHealth = new ServiceHealthServers(vertx, config.nodePortAddresses(), health::proxyHealthy);
        for (IpFamily family : dataplanes.keySet()) {
            empty.put(family, ProxyState.empty(state.node(), family));
        }
        this.lastStates = Collections.unmodifiableMap(empty);
    }

    /** The first family the node runs (IPv4 unless the node runs IPv6 alone): the one single-family readers see. */
    private IpFamily primary() {
        return dataplanes.keySet().iterator().next();
    }

    /**
     * Starts an agent: notes another mode's leftovers, opens the HTTP endpoints and starts watching.
     * The first sync runs once the initial lists are in; the leftovers go after it.
     */
    public static Future<Agent> start(ProxyConfig config, KubernetesClient client, ApiReachability reachability, Vertx vertx,
            ToolRunner tools) {
        return start(config, client, reachability, vertx, tools, SyncRunner.FULL_SYNC_PERIOD, null, null);
    }

    /**
     * The same for the IP families a caller has already checked with {@link NodeFamilies#probe} (the {@code run}
     * command does, before it connects, so a node that cannot run fails first): they are not checked again.
     */
    public static Future<Agent> start(ProxyConfig config, KubernetesClient client, ApiReachability reachability, Vertx vertx,
            ToolRunner tools, Set<IpFamily> checkedFamilies) {
        return start(config, client, reachability, vertx, tools, SyncRunner.FULL_SYNC_PERIOD, Set.copyOf(checkedFamilies), null);
    }

    /**
     * The same for a client built without an {@link ApiReachability}: an API outage while the watches are
     * open is then not logged (Fabric8 re-opens them silently), only failed lists and lost watches are.
     */
    public static Future<Agent> start(ProxyConfig config, KubernetesClient client, Vertx vertx, ToolRunner tools) {
        return start(config, client, new ApiReachability(), vertx, tools, SyncRunner.FULL_SYNC_PERIOD, null, null);
    }

    /**
     * The same with a dataplane provider that is not registered ({@code ServiceLoader}) under the configuration's mode:
     * for tests that watch what the agent asks of its dataplanes, and for embedders.
     */
    public static Future<Agent> start(ProxyConfig config, KubernetesClient client, Vertx vertx, ToolRunner tools,
            DataplaneProvider provider) {
        return start(config, client, new ApiReachability(), vertx, tools, SyncRunner.FULL_SYNC_PERIOD, null, provider);
    }

    /**
     * The same with another period for the unforced full sync than upstream's hour: for tests and benchmarks
     * that need a full sync to fall due; the agent itself always uses {@link SyncRunner#FULL_SYNC_PERIOD}.
     */
    public static Future<Agent> start(ProxyConfig config, KubernetesClient client, Vertx vertx, ToolRunner tools,
            Duration fullSyncPeriod) {
        return start(config, client, new ApiReachability(), vertx, tools, fullSyncPeriod, null, null);
    }

    /** {@code checkedFamilies} null: each family is checked here ({@link NodeFamilies#probe}). */
    private static Future<Agent> start(ProxyConfig config, KubernetesClient client, ApiReachability reachability, Vertx vertx,
            ToolRunner tools, Duration fullSyncPeriod, Set<IpFamily> checkedFamilies, DataplaneProvider provider) {
        Agent agent;
        try {
            agent = new Agent(config, client, reachability, vertx, tools, fullSyncPeriod, checkedFamilies, provider);
        } catch (Exception e) {
            return Future.failedFuture(e);
        }
        return agent.begin(client).map(agent);
    }

    private Future<Void> begin(KubernetesClient client) {
        LOG.info("kube-ferry starting in {} mode ({}) on node {}{}", config.mode(),
                String.join(", ", dataplanes.keySet().stream().map(IpFamily::apiName).toList()), config.hostnameOverride(),
                config.netns().isEmpty() ? "" : " (programming network namespace " + config.netns() + ")");
        for (IpFamily family : dataplanes.keySet()) {
            if (!config.clusterCIDRs().isEmpty() && config.clusterCIDR(family).isEmpty()) {
                // As upstream's per-family local detector: traffic of this family is not told local by its source.
                LOG.info("detectLocalMode ClusterCIDR: clusterCIDR {} has no {} CIDR; {} traffic is not detected as local",
                        config.clusterCIDRs(), family, family);
            }
        }
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
                Duration housekeeping = dataplanes.get(primary()).housekeepingPeriod();
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
    private List<Leftover> otherModesLeftovers() {
        List<Leftover> found = new ArrayList<>();
        for (DataplaneProvider provider : DataplaneProvider.all()) {
            if (provider.mode().equals(config.mode())) {
                continue;
            }
            for (IpFamily family : IpFamily.values()) {
                // A family the other mode does not program, or whose tools are absent here, can have left nothing.
                if (!provider.families().contains(family) || (family != IpFamily.IPv4
                        && tools.missingTools(provider.mode(), provider.requiredTools(family)).isPresent())) {
                    continue;
                }
                try {
                    Dataplane other = provider.create(new DataplaneContext(config, tools,
                            new io.micrometer.core.instrument.simple.SimpleMeterRegistry()).withFamily(family));
                    if (other.hasLeftovers()) {
                        LOG.info("found {} mode's {}state on this node: it is removed after the first {} sync", provider.mode(),
                                family == IpFamily.IPv4 ? "" : family + " ", config.mode());
                        found.add(new Leftover(family, other));
                    }
                } catch (Exception e) {
                    LOG.warn("could not look for {} mode's {}leftovers: {}", provider.mode(), family == IpFamily.IPv4 ? "" : family + " ",
                            e.getMessage());
                }
            }
        }
        return List.copyOf(found);
    }

    private void removeLeftovers() {
        for (Leftover leftover : leftovers) {
            Dataplane other = leftover.dataplane();
            // What this mode uses in that family stays; a family this node does not run keeps nothing of the other mode.
            Dataplane running = dataplanes.get(leftover.family());
            try {
                CleanupReport report = other.cleanupNotUsedBy(running == null ? Set.of() : running.sharedState());
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
        dataplanes.forEach((family, dataplane) -> onWorker(() -> {
            dataplane.housekeeping();
            return null;
        }).onFailure(e -> LOG.warn("{} {}housekeeping failed: {}", dataplane.mode(), family == IpFamily.IPv4 ? "" : family + " ",
                e.getMessage())));
    }

    private void changed() {
        metrics.queued();
        runner.request();
    }

    /** A change that touches every Service (this node's addresses or topology labels): upstream goes full. */
    private void changedEverywhere() {
        fullAsked = true;
        metrics.queued();
        runner.requestFull();
    }

    private void checkCanary() {
        onWorker(() -> {
            boolean any = false;
            for (Dataplane dataplane : dataplanes.values()) {
                // Every family asked, none skipped: each notes its own loss and makes its next sync full.
                any |= dataplane.kernelStateLost();
            }
            return any;
        }).onSuccess(lost -> {
            if (lost) {
                // The dataplane's next sync is full by itself (kernelStateLost's contract). Not requestFull: when a
                // sync already waits for the worker it is that full one, and a second full would follow it with
                // changes waiting behind both. kernelLost covers the case where no sync is waiting.
                kernelLost = true;
                runner.request();
            }
        });
    }

    /** One family's part of a sync: what was asked, what the dataplane did and how long it took. */
    private record FamilySync(SyncRequest request, SyncResult result, Duration took) {
    }

    /** What every family's part of one sync did: the families that synced, and the first failure (null: none). */
    private record FamiliesSynced(Map<IpFamily, FamilySync> synced, Exception failure) {
    }

    /**
     * One sync, on the context; the dataplanes run on the ordered worker (IPv4, then IPv6), the hooks on their own
     * threads. As upstream's MetaProxier, each family stands alone: every running family is synced even when an
     * earlier one failed, and a family that synced counts as synced (hooks, last state, schedulers, metrics, its
     * changes cleared) whatever the other did. The sync as a whole fails with the first failure (health, the failure
     * count and the runner's backoff see one failed sync, as single-stack); only a failed family owes a full retry.
     */
    private Future<Boolean> sync(boolean full) {
        if (!state.ready()) {
            return Future.succeededFuture(false);
        }
        StateSource.Snapshot snapshot = state.take();
        unsyncedChanges.forEach((family, changes) -> changes.addAll(snapshot.changed(family)));
        unsyncedTriggers.addAll(snapshot.triggerTimes());
        health.nodeEligible(snapshot.state(primary()).node().eligible());
        // After a failure the runner forces a full sync, which only the failed family needs: a full the runner asks
        // for then goes to every family only if a change asked for it since (fullAsked). An hourly full that falls
        // due during the retry waits for the next sync (the retry reports itself partial, so the hour stays due).
        boolean fullForAll = kernelLost || (full && (!retrying || fullAsked));
        Map<IpFamily, SyncRequest> requests = new EnumMap<>(IpFamily.class);
        dataplanes.keySet().forEach(f -> requests.put(f,
                new SyncRequest(snapshot.state(f), unsyncedChanges.get(f), fullForAll || fullOwed.contains(f))));
        if (requests.values().stream().allMatch(SyncRequest::full)) {
            // Answered (the first sync answers what the initial lists asked for before the state was ready).
            fullAsked = false;
        }
        long start = System.nanoTime();
        fullSyncRunning = requests.values().stream().anyMatch(SyncRequest::full);
        return onWorker(() -> syncFamilies(requests)).compose(done -> {
            fullSyncRunning = false;
            Map<IpFamily, FamilySync> synced = done.synced();
            boolean allFull = done.failure() == null && synced.values().stream().allMatch(f -> f.result().full());
            if (allFull) {
                kernelLost = false;
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            Map<IpFamily, ProxyState> states = new EnumMap<>(IpFamily.class);
            states.putAll(lastStates);
            Map<IpFamily, Map<ServicePortName, SchedulerInForce>> schedulers = new EnumMap<>(IpFamily.class);
            schedulers.putAll(lastSchedulers);
            Map<IpFamily, SyncResult> results = new EnumMap<>(IpFamily.class);
            results.putAll(lastResults);
            synced.forEach((family, f) -> {
                metrics.synced(family, f.result().full(), f.took());
                metrics.programmed(family, f.request().state());
                hooks.synced(lastStates.get(family), f.request().state(), f.request().changed(), f.result().full());
                states.put(family, f.request().state());
                schedulers.put(family, dataplanes.get(family).schedulers());
                results.put(family, f.result());
                unsyncedChanges.get(family).clear();
                fullOwed.remove(family);
            });
            fullOwed.addAll(requests.keySet().stream().filter(f -> !synced.containsKey(f)).toList());
            retrying = done.failure() != null;
            lastStates = Collections.unmodifiableMap(states);
            lastSchedulers = Collections.unmodifiableMap(schedulers);
            lastResults = Collections.unmodifiableMap(results);
            if (!synced.isEmpty()) {
                serviceHealth.update(states.values());
            }
            if (LOG.isDebugEnabled()) {
                synced.forEach((family, f) -> LOG.debug("{} {} sync of {} Service ports in {} ms (render {} ms, apply {} ms)",
                        f.result().full() ? "full" : "partial", family, f.request().state().services().size(), took.toMillis(),
                        f.result().renderTime().toMillis(), f.result().applyTime().toMillis()));
            }
            if (done.failure() != null) {
                return Future.failedFuture(done.failure());
            }
            // One trigger time is one change, programmed once every family is: counted once, under the first family.
            metrics.programmedChanges(primary(), unsyncedTriggers);
            health.updated();
            unsyncedTriggers.clear();
            boolean first = successfulSyncs.incrementAndGet() == 1;
            return onWorker(() -> {
                if (!leftovers.isEmpty()) {
                    removeLeftovers();
                }
                if (first) {
                    releaseStartupHeap();
                }
                return allFull;
            });
        }).onFailure(e -> {
            fullSyncRunning = false;
            failedSyncs.incrementAndGet();
            metrics.failed();
            // SyncRunner logs the failure once, with its retry delay.
        });
    }

    /**
     * Syncs each family in order, on the worker, each tried whatever the other did. The first failure is returned
     * with the families that synced; an IPv6 failure's message starts with "IPv6: " (an IPv4 one reads as it did
     * before dual-stack).
     */
    private FamiliesSynced syncFamilies(Map<IpFamily, SyncRequest> requests) {
        Map<IpFamily, FamilySync> synced = new EnumMap<>(IpFamily.class);
        Exception failure = null;
        for (Map.Entry<IpFamily, SyncRequest> entry : requests.entrySet()) {
            IpFamily family = entry.getKey();
            long start = System.nanoTime();
            try {
                SyncResult result = dataplanes.get(family).sync(entry.getValue());
                synced.put(family, new FamilySync(entry.getValue(), result, Duration.ofNanos(System.nanoTime() - start)));
            } catch (DataplaneException | RuntimeException e) {
                if (failure == null) {
                    failure = family == IpFamily.IPv4 ? e : new DataplaneException(family + ": " + e.getMessage(), e);
                }
            }
        }
        return new FamiliesSynced(synced, failure);
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

    /** The last successful sync's result for the first family the node runs (IPv4 on an IPv4 or dual-stack node). */
    public SyncResult lastResult() {
        return lastResults.get(primary());
    }

    /** The last successful sync's result for {@code family}; null before one, or when the node does not run it. */
    public SyncResult lastResult(IpFamily family) {
        return lastResults.get(family);
    }

    /** The IPv4 state last programmed (empty when the node does not run IPv4): for single-stack callers. */
    public ProxyState lastState() {
        return lastState(IpFamily.IPv4);
    }

    /** The state of {@code family} last programmed; empty before the first sync or when the node does not run it. */
    public ProxyState lastState(IpFamily family) {
        ProxyState last = lastStates.get(family);
        return last != null ? last : ProxyState.empty(state.node(), family);
    }

    /** The IP families this agent programs, in order (IPv4, IPv6). */
    public Set<IpFamily> families() {
        return dataplanes.keySet();
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
                LOG.info("stopped; {} rules left in place (kube-ferry cleanup removes them)", config.mode());
                stopped.complete();
            });
        });
        return stopped.future();
    }
}
