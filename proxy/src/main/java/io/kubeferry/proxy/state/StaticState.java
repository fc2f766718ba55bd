package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.kubeferry.proxy.model.ProxyState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.Collection;
import java.util.Set;

/**
 * The state for a fixed set of objects (from files, or one list of a cluster): what {@code render} shows.
 * It runs the same converters and endpoint choice as the agent, so the program it leads to is the one the
 * agent would apply for the same objects.
 */
public final class StaticState {

    private StaticState() {
    }

    public static ProxyState of(Collection<? extends HasMetadata> objects, String nodeName, String serviceProxyName) {
        ClusterState state = new ClusterState(nodeName, serviceProxyName, Set.of(), new SimpleMeterRegistry());
        for (HasMetadata object : objects) {
            if (object instanceof Node node && nodeName.equals(node.getMetadata().getName())) {
                state.onNode(node);
            }
        }
        for (HasMetadata object : objects) {
            if (object instanceof Service service) {
                state.onService(service);
            } else if (object instanceof EndpointSlice slice) {
                state.onSlice(slice);
            }
        }
        return state.take().state();
    }
}
