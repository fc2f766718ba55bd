package io.kubeferry.proxy.watch;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Fabric8 informers for Services, EndpointSlices, this Node and the cluster's ServiceCIDRs. Every event hops onto the agent's one
 * Vert.x context before it touches {@link ClusterState}, so the state needs no locks; then the sync
 * runner is asked for a sync. Informers relist and rewatch by themselves after API outages and 410 Gone.
 * An outage is logged as two lines, not one per retry: a WARN when listing or watching starts failing (with
 * the error and Fabric8's backoff) and an INFO when every informer watches again; Fabric8's own per-retry
 * stack traces are kept out of the INFO/WARN log (LogbackDefaults). A failed list reaches the informer's exception
 * handler, and an informer that stops watching for longer than {@link #WATCH_LOST_GRACE} is seen here; a
 * dropped watch that Fabric8's watch manager re-opens by itself (the informer still reports watching) is
 * seen through {@link ApiReachability}, the HTTP client's interceptor: a failed connection starts the outage
 * and it ends once the API server has answered again and every informer watches.
 *
 * <p>ServiceCIDRs (networking.k8s.io/v1, GA in 1.33) are optional, as for upstream, whose ServiceCIDR informer never
 * holds up its first sync: an API server that does not serve them (404, an older version) or forbids them (403, a
 * ClusterRole from before they were read) is said once, at WARN, and the kind then counts as listed and empty (no
 * drop rule for unallocated ClusterIPs) while the informer keeps retrying on Fabric8's backoff, out of the outage
 * lines; once it lists, the ServiceCIDRs arrive like any change.
 */
public final class ClusterWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterWatch.class);

    public static final String SERVICE_CIDR = "ServiceCIDR";
    public static final Set<String> KINDS = Set.of("Service", "EndpointSlice", "Node", SERVICE_CIDR);
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
    /** Optional kinds the API server does not serve or lets us read now: listed as empty, not an outage. */
    private final Set<String> unavailable = new HashSet<>();

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
        // Upstream's informer factory puts the Service selector on ServiceCIDRs too (cmd/kube-proxy server.go).
        var cidrs = client.network().v1().serviceCIDRs().withoutLabel(ServiceConverter.HEADLESS);
        if (serviceProxyName.isEmpty()) {
            cidrs = cidrs.withoutLabel(ServiceConverter.SERVICE_PROXY_NAME);
        }
        // A change of the set asks for a full sync: nftables mode writes the drop rule with the fixed chains.
        informers.add(cidrs.runnableInformer(resyncMillis).itemStore(new TrimmedItemStore<>())
                .addEventHandler(handler(SERVICE_CIDR, state::onServiceCIDR, state::onServiceCIDRDeleted, onChangeEverywhere)));
        String backoffText = backoffText();
        reachability.listen(reachabilityListener);
        for (SharedIndexInformer<?> informer : informers) {
            String kind = kindOf(informer);
            // Keep retrying whatever happens (API server down at start, expired watches, relists): a node
            // agent has nothing better to do than wait for the API server, with its last rules in place.
            informer.exceptionHandler((started, error) -> {
                Optional<String> unserved = SERVICE_CIDR.equals(kind) ? unavailableReason(error) : Optional.empty();
                context.runOnContext(v -> {
                    if (closing) {
                        return;
                    }
                    if (unserved.isPresent()) {
                        serviceCIDRsUnavailable(unserved.get(), error);
                    } else {
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
            LOG.info("initial lists of Services, EndpointSlices, Node {} and ServiceCIDRs received", nodeName);
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
            // Synced in the cache and delivered to the state: see InitialLists. A kind not served counts as empty.
            if (unavailable.contains(kindOf(informer))) {
                state.markSynced(kindOf(informer));
            } else if (informer.hasSynced() && initialLists.synced(kindOf(informer), () -> informer.getStore().listKeys())) {
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
            String kind = kindOf(informer);
            if (informer.isWatching()) {
                if (unavailable.remove(kind)) {
                    LOG.info("{}s are served now: read from here on", kind);
                }
            } else if (!unavailable.contains(kind)) {
                notWatching.add(kind);
            }
        }
        outage.watching(notWatching, System.nanoTime());
    }

    /**
     * Why the API server will not list ServiceCIDRs, when that is the answer it gave: 404 (it does not serve
     * networking.k8s.io/v1 ServiceCIDR) or 403 (the agent may not read them). Anything else is an outage.
     */
    public static Optional<String> unavailableReason(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof KubernetesClientException k) {
                if (k.getCode() == 404) {
                    return Optional.of("this API server does not serve networking.k8s.io/v1 ServiceCIDR (before Kubernetes 1.33?)");
                }
                if (k.getCode() == 403) {
                    return Optional.of("the agent may not list them (its ClusterRole lacks list/watch on servicecidrs in "
                            + "networking.k8s.io; see manifests/base/rbac.yaml)");
                }
            }
        }
        return Optional.empty();
    }

    /** Said once per spell (at WARN); Fabric8 keeps retrying, and {@link #checkWatching} sees them served again. */
    private void serviceCIDRsUnavailable(String reason, Throwable error) {
        if (unavailable.add(SERVICE_CIDR)) {
            LOG.warn("ServiceCIDRs not read: {}; going on without them (nftables mode writes no drop rule for unallocated "
                    + "ClusterIPs) and retrying in the background: {}", reason, ApiOutage.describe(error));
        } else {
            LOG.debug("ServiceCIDRs still not read: {}", ApiOutage.describe(error));
        }
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
        if (type == ServiceCIDR.class) {
            return SERVICE_CIDR;
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
        return handler(kind, obj -> {
            upsert.accept(obj);
            return true;
        }, obj -> {
            delete.accept(obj);
            return true;
        }, onChange);
    }

    /** Events of {@code kind}; {@code then} runs after an action that says it changed something. */
    private <T extends HasMetadata> ResourceEventHandler<T> handler(String kind, Predicate<T> upsert, Predicate<T> delete, Runnable then) {
        return new ResourceEventHandler<>() {

            @Override
            public void onAdd(T obj) {
                deliver(kind, obj, upsert, then);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                deliver(kind, newObj, upsert, then);
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                deliver(kind, obj, delete, then);
            }
        };
    }

    private <T extends HasMetadata> void deliver(String kind, T obj, Predicate<T> action, Runnable then) {
        context.runOnContext(v -> {
            initialLists.delivered(kind, Cache.metaNamespaceKeyFunc(obj));
            boolean changed;
            try {
                changed = action.test(obj);
            } catch (RuntimeException e) {
                // A malformed object must never stop the others from being programmed.
                LOG.warn("{} {}/{} skipped: {}", kind, obj.getMetadata().getNamespace(), obj.getMetadata().getName(), e.toString());
                return;
            }
            if (changed) {
                then.run();
            }
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
