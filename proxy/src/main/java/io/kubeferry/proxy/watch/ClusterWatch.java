package io.kubeferry.proxy.watch;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.kubeferry.proxy.state.ClusterState;
import io.vertx.core.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Fabric8 informers for Services, EndpointSlices and this Node. Every event hops onto the agent's one
 * Vert.x context before it touches {@link ClusterState}, so the state needs no locks; then the sync
 * runner is asked for a sync. Informers relist and rewatch by themselves after API outages and 410 Gone.
 */
public final class ClusterWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterWatch.class);

    public static final Set<String> KINDS = Set.of("Service", "EndpointSlice", "Node");

    private final KubernetesClient client;
    private final String nodeName;
    private final String serviceProxyName;
    private final Duration resync;
    private final Context context;
    private final ClusterState state;
    private final Runnable onChange;
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();

    public ClusterWatch(KubernetesClient client, String nodeName, String serviceProxyName, Duration resync,
                        Context context, ClusterState state, Runnable onChange) {
        this.client = client;
        this.nodeName = nodeName;
        this.serviceProxyName = serviceProxyName == null ? "" : serviceProxyName;
        this.resync = resync;
        this.context = context;
        this.state = state;
        this.onChange = onChange;
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
        informers.add(services.runnableInformer(resyncMillis)
                .addEventHandler(handler("Service", state::onService, state::onServiceDeleted)));
        informers.add(slices.runnableInformer(resyncMillis)
                .addEventHandler(handler("EndpointSlice", state::onSlice, state::onSliceDeleted)));
        informers.add(client.nodes().withField("metadata.name", nodeName).runnableInformer(resyncMillis)
                .addEventHandler(handler("Node", node -> {
                    // Field selectors are not honoured everywhere (e.g. mock servers): check the name too.
                    if (nodeName.equals(node.getMetadata().getName())) {
                        state.onNode(node);
                    }
                }, node -> { })));
        for (SharedIndexInformer<?> informer : informers) {
            String kind = kindOf(informer);
            // Keep retrying whatever happens (API server down at start, expired watches, relists): a node
            // agent has nothing better to do than wait for the API server, with its last rules in place.
            informer.exceptionHandler((started, error) -> {
                LOG.warn("{} informer: {} (retrying)", kind, error.toString());
                return true;
            });
            informer.start().whenComplete((v, error) -> {
                if (error != null) {
                    LOG.warn("{} informer failed to start: {}", kind, error.toString());
                }
            });
        }
        watchForSync();
    }

    /** Marks each kind synced on the context once its initial list is in, then asks for the first sync. */
    private void watchForSync() {
        context.owner().setPeriodic(0, 100, id -> {
            boolean all = true;
            for (SharedIndexInformer<?> informer : informers) {
                if (informer.hasSynced()) {
                    state.markSynced(kindOf(informer));
                } else {
                    all = false;
                }
            }
            if (all) {
                context.owner().cancelTimer(id);
                LOG.info("initial lists of Services, EndpointSlices and Node {} received", nodeName);
                onChange.run();
            }
        });
    }

    private static String kindOf(SharedIndexInformer<?> informer) {
        Class<?> type = informer.getApiTypeClass();
        if (type == Service.class) {
            return "Service";
        }
        return type == EndpointSlice.class ? "EndpointSlice" : "Node";
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

    @Override
    public void close() {
        informers.forEach(SharedIndexInformer::close);
        informers.clear();
    }
}
