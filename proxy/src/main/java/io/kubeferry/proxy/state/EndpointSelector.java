package io.kubeferry.proxy.state;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;

import java.util.List;
import java.util.function.Predicate;

/**
 * Chooses which endpoints this node sends a Service port's traffic to, as upstream's CategorizeEndpoints:
 * ready endpoints filtered by topology hints for Cluster policy (all serving+terminating ones when none is
 * ready anywhere), and this node's ready endpoints (else its serving+terminating ones) for Local policy.
 */
public final class EndpointSelector {

    private enum Topology {
        NONE, SAME_NODE, SAME_ZONE
    }

    private EndpointSelector() {
    }

    /** @param endpoints every endpoint of the port, merged and de-duplicated */
    public static ResolvedService categorize(ServicePort port, List<Endpoint> endpoints, NodeInfo node) {
        List<Endpoint> cluster = List.of();
        boolean hasAny = false;
        if (port.usesClusterEndpoints()) {
            Topology topology = topology(endpoints, node);
            cluster = filter(endpoints, ep -> ep.ready() && available(ep, topology, node));
            if (cluster.isEmpty()) {
                // No ready endpoint anywhere (topology never removes every ready one): keep traffic flowing
                // to endpoints that are shutting down but still serve (KEP-1669).
                cluster = filter(endpoints, ep -> ep.serving() && ep.terminating());
            }
            hasAny = !cluster.isEmpty();
        }
        if (!port.usesLocalEndpoints()) {
            return new ResolvedService(port, endpoints, cluster, List.of(), hasAny);
        }
        boolean localReady = false;
        boolean localServingTerminating = false;
        for (Endpoint ep : endpoints) {
            if (ep.ready()) {
                hasAny = true;
                localReady |= ep.local();
            } else if (ep.serving() && ep.terminating()) {
                hasAny = true;
                localServingTerminating |= ep.local();
            }
        }
        List<Endpoint> local = List.of();
        if (localReady) {
            local = filter(endpoints, ep -> ep.local() && ep.ready());
        } else if (localServingTerminating) {
            local = filter(endpoints, ep -> ep.local() && ep.serving() && ep.terminating());
        }
        return new ResolvedService(port, endpoints, cluster, local, hasAny);
    }

    private static Topology topology(List<Endpoint> endpoints, NodeInfo node) {
        boolean allNodeHints = true;
        boolean nodeHinted = false;
        boolean allZoneHints = true;
        boolean zoneHinted = false;
        String zone = node.zone();
        for (Endpoint ep : endpoints) {
            if (!ep.ready()) {
                continue;
            }
            if (ep.nodeHints().isEmpty()) {
                allNodeHints = false;
            } else if (ep.nodeHints().contains(node.name())) {
                nodeHinted = true;
            }
            if (ep.zoneHints().isEmpty()) {
                allZoneHints = false;
            } else if (!zone.isEmpty() && ep.zoneHints().contains(zone)) {
                zoneHinted = true;
            }
        }
        if (allNodeHints && nodeHinted) {
            return Topology.SAME_NODE;
        }
        if (allZoneHints && zoneHinted) {
            return Topology.SAME_ZONE;
        }
        return Topology.NONE;
    }

    private static boolean available(Endpoint ep, Topology topology, NodeInfo node) {
        return switch (topology) {
            case NONE -> true;
            case SAME_NODE -> ep.nodeHints().contains(node.name());
            case SAME_ZONE -> ep.zoneHints().contains(node.zone());
        };
    }

    private static List<Endpoint> filter(List<Endpoint> endpoints, Predicate<Endpoint> keep) {
        return endpoints.stream().filter(keep).toList();
    }
}
