package io.kubeferry.proxy.watch;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.kubeferry.proxy.state.ClusterState;
import io.kubeferry.proxy.state.ServiceConverter;
import io.vertx.core.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Fabric8 informers for Services, EndpointSlices and this Node. Every event hops onto the agent's one
 * Vert.x context before it touches {@link ClusterState}, so the state needs no locks; then the sync
 * runner is asked for a sync. Informers relist and rewatch by themselves after API outages and 410 Gone.
 * An outage is logged as two lines, not one per retry: a WARN when listing or watching starts failing (with
 * the error and Fabric8's backoff) and an INFO when every informer watches again; Fabric8's own per-retry
 * stack traces are kept out of the INFO/WARN log (LogbackDefaults). A failed list reaches the informer's exception
 * handler, and an informer that stops watching for longer than {@link #WATCH_LOST_GRACE} is seen here; a
 * dropped watch that Fabric8's watch manager re-opens by itself (the informer still reports watching) is
 * seen through {@link ApiReachability}, the HTTP client's interceptor: a failed connection starts the outage
 * and it ends once the API server has answered again and every informer watches.
 */
public final class ClusterWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterWatch.class);

    public static final Set<String> KINDS = Set.of("Service", "EndpointSlice", "Node");
    /** How long a lost watch may take to come back before it counts as an outage (reconnects are routine). */
    static final Duration WATCH_LOST_GRACE = Duration.ofSeconds(10);
    /** Fabric8's reconnect backoff doubles up to this many times the watch reconnect interval. */
    private static final int FABRIC8_BACKOFF_FACTOR = 32;

    private final KubernetesClient client;
    private final ApiReachability reachability;
    private final String nodeName;
    private final String serviceProxyName;
    private final Duration resync;
    private final Context context;
    private final ClusterState state;
    private final Runnable onChange;
    private final Runnable onChangeEverywhere;
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    private final InitialLists initialLists = new InitialLists();
    private final ApiOutage outage = new ApiOutage(WATCH_LOST_GRACE);
    /** Failed connections and answers, from the HTTP client's threads onto the context. */
    private final ApiReachability.Listener reachabilityListener = new ApiReachability.Listener() {

        @Override
        public void connectionFailed(String kind, Throwable error) {
            context.runOnContext(v -> {
                if (!closing) {
                    outage.connectionFailed(kind, error, backoffText(), System.nanoTime());
                }
            });
        }

        @Override
        public void answered() {
            context.runOnContext(v -> outage.answered());
        }
    };
    /** Until the initial lists are in, the first sync waits on this check: keep it short. */
    private static final long INITIAL_CHECK_MILLIS = 100;
    private static final long WATCHING_CHECK_MILLIS = 1000;
    private long checkTimer = -1;
    private boolean closing;

    /**
     * @param onChange           something changed: a sync soon
     * @param onChangeEverywhere this node's addresses or topology labels changed, which touches every Service:
     *                           a full sync soon (as upstream)
     * @param reachability       the interceptor installed on {@code client}'s HTTP client
     */
    public ClusterWatch(KubernetesClient client, ApiReachability reachability, String nodeName, String serviceProxyName,
            Duration resync, Context context, ClusterState state, Runnable onChange, Runnable onChangeEverywhere) {
        this.client = client;
        this.reachability = reachability;
        this.nodeName = nodeName;
        this.serviceProxyName = serviceProxyName == null ? "" : serviceProxyName;
        this.resync = resync;
        this.context = context;
        this.state = state;
        this.onChange = onChange;
        this.onChangeEverywhere = onChangeEverywhere;
    }

    /** Starts the informers; returns at once (they list and watch in the background). */
    public void start() {
        long resyncMillis = resync.toMillis();
        // Upstream's selectors: no headless Services (and their slices), and none that name a service proxy.
        // With a proxy name configured, the label check moves to ServiceConverter (a selector cannot say
        // "absent or equal to NAME").
        var services = client.services().inAnyNamespace().withoutLabel(ServiceConverter.HEADLESS);
        var slices = client.discovery().v1().endpointSlices().inAnyNamespace().withoutLabel(ServiceConverter.HEADLESS);
        if (serviceProxyName.isEmpty()) {
            services = services.withoutLabel(ServiceConverter.SERVICE_PROXY_NAME);
            slices = slices.withoutLabel(ServiceConverter.SERVICE_PROXY_NAME);
        }
        // Each informer caches what it watches for the agent's lifetime: trimmed (TrimmedItemStore).
        informers.add(services.runnableInformer(resyncMillis).itemStore(new TrimmedItemStore<>())
                .addEventHandler(handler("Service", state::onService, state::onServiceDeleted)));
        informers.add(slices.runnableInformer(resyncMillis).itemStore(new TrimmedItemStore<>())
                .addEventHandler(handler("EndpointSlice", state::onSlice, state::onSliceDeleted)));
        informers.add(client.nodes().withField("metadata.name", nodeName).runnableInformer(resyncMillis)
                .itemStore(new TrimmedItemStore<>()).addEventHandler(nodeHandler()));
        String backoffText = backoffText();
        reachability.listen(reachabilityListener);
        for (SharedIndexInformer<?> informer : informers) {
            String kind = kindOf(informer);
            // Keep retrying whatever happens (API server down at start, expired watches, relists): a node
            // agent has nothing better to do than wait for the API server, with its last rules in place.
            informer.exceptionHandler((started, error) -> {
                context.runOnContext(v -> {
                    if (!closing) {
                        outage.failed(kind, error, backoffText, System.nanoTime());
                    }
                });
                return true;
            });
            informer.start().whenComplete((v, error) -> {
                if (error != null) {
                    context.runOnContext(x -> {
                        // Closing before the first list arrived ends start() this way: nothing to report.
                        if (!closing) {
                            LOG.warn("{} informer failed to start: {}", kind, ApiOutage.describe(error));
                        }
                    });
                }
            });
        }
        watchState();
    }

    /**
     * On the context: marks each kind synced once its initial list is in and then asks for the first sync;
     * afterwards follows whether every informer is watching, for the outage's two log lines.
     */
    private void watchState() {
        checkTimer = context.owner().setPeriodic(0, INITIAL_CHECK_MILLIS, id -> {
            if (closing || !initialListsIn()) {
                return;
            }
            LOG.info("initial lists of Services, EndpointSlices and Node {} received", nodeName);
            onChange.run();
            // From now on only the outage's two log lines depend on this check: once a second is plenty, and
            // an idle agent no longer wakes ten times a second for it.
            context.owner().cancelTimer(checkTimer);
            checkTimer = context.owner().setPeriodic(WATCHING_CHECK_MILLIS, i -> {
                if (!closing) {
                    checkWatching();
                }
            });
            checkWatching();
        });
    }

    /** Marks each kind synced whose initial list is in; true once all are. */
    private boolean initialListsIn() {
        boolean all = true;
        for (SharedIndexInformer<?> informer : informers) {
            // Synced in the cache and delivered to the state: see InitialLists.
            if (informer.hasSynced() && initialLists.synced(kindOf(informer), () -> informer.getStore().listKeys())) {
                state.markSynced(kindOf(informer));
            } else {
                all = false;
            }
        }
        return all;
    }

    private void checkWatching() {
        List<String> notWatching = new ArrayList<>();
        for (SharedIndexInformer<?> informer : informers) {
            if (!informer.isWatching()) {
                notWatching.add(kindOf(informer));
            }
        }
        outage.watching(notWatching, System.nanoTime());
    }

    /** Fabric8's retry backoff, for the outage's WARN: the same for relists and watch reconnects. */
    private String backoffText() {
        long backoff = client.getConfiguration().getWatchReconnectInterval();
        return "backoff " + backoff + " ms doubling to " + (backoff * FABRIC8_BACKOFF_FACTOR / 1000) + " s";
    }

    private static String kindOf(SharedIndexInformer<?> informer) {
        Class<?> type = informer.getApiTypeClass();
        if (type == Service.class) {
            return "Service";
        }
        return type == EndpointSlice.class ? "EndpointSlice" : "Node";
    }

    /** This Node: a change of its addresses or topology labels touches every Service, so it asks for a full sync. */
    private ResourceEventHandler<Node> nodeHandler() {
        return new ResourceEventHandler<>() {

            @Override
            public void onAdd(Node node) {
                deliverNode(node, true);
            }

            @Override
            public void onUpdate(Node oldNode, Node newNode) {
                deliverNode(newNode, touchesEveryService(oldNode, newNode));
            }

            @Override
            public void onDelete(Node node, boolean deletedFinalStateUnknown) {
            }
        };
    }

    private void deliverNode(Node node, boolean everywhere) {
        context.runOnContext(v -> {
            initialLists.delivered("Node", Cache.metaNamespaceKeyFunc(node));
            // Field selectors are not honoured everywhere (e.g. mock servers): check the name too.
            if (!nodeName.equals(node.getMetadata().getName())) {
                return;
            }
            try {
                state.onNode(node);
            } catch (RuntimeException e) {
                LOG.warn("Node {} skipped: {}", nodeName, e.toString());
                return;
            }
            (everywhere ? onChangeEverywhere : onChange).run();
        });
    }

    /** Addresses or topology labels: what every Service's rules depend on. Status heartbeats are not. */
    static boolean touchesEveryService(Node before, Node after) {
        return !Objects.equals(topologyLabels(before), topologyLabels(after))
                || !Objects.equals(before.getStatus() == null ? null : before.getStatus().getAddresses(),
                        after.getStatus() == null ? null : after.getStatus().getAddresses());
    }

    private static Map<String, String> topologyLabels(Node node) {
        Map<String, String> labels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
        Map<String, String> topology = new TreeMap<>();
        labels.forEach((k, v) -> {
            if (k.startsWith("topology.kubernetes.io/")) {
                topology.put(k, v);
            }
        });
        return topology;
    }

    private <T extends HasMetadata> ResourceEventHandler<T> handler(String kind, Consumer<T> upsert, Consumer<T> delete) {
        return new ResourceEventHandler<>() {

            @Override
            public void onAdd(T obj) {
                deliver(kind, obj, upsert);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                deliver(kind, newObj, upsert);
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                deliver(kind, obj, delete);
            }
        };
    }

    private <T extends HasMetadata> void deliver(String kind, T obj, Consumer<T> action) {
        context.runOnContext(v -> {
            initialLists.delivered(kind, Cache.metaNamespaceKeyFunc(obj));
            try {
                action.accept(obj);
            } catch (RuntimeException e) {
                // A malformed object must never stop the others from being programmed.
                LOG.warn("{} {}/{} skipped: {}", kind, obj.getMetadata().getNamespace(), obj.getMetadata().getName(), e.toString());
                return;
            }
            onChange.run();
        });
    }

    /** Closes the informers (on the context); their start futures and handlers report nothing from now on. */
    @Override
    public void close() {
        closing = true;
        reachability.stopListening(reachabilityListener);
        if (checkTimer >= 0) {
            context.owner().cancelTimer(checkTimer);
        }
        informers.forEach(SharedIndexInformer::close);
        informers.clear();
    }
}
