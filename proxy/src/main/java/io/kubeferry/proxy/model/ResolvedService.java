package io.kubeferry.proxy.model;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * A Service port together with the endpoints this node chose for it (upstream's CategorizeEndpoints).
 *
 * @param port              the Service port
 * @param allEndpoints      every endpoint the slices list, merged and de-duplicated, sorted by ip:port
 * @param clusterEndpoints  endpoints for Cluster traffic policy: ready ones passing topology, else serving+terminating
 * @param localEndpoints    endpoints for Local traffic policy: local ready ones, else local serving+terminating
 * @param hasAnyEndpoints   true when any endpoint anywhere is usable (decides REJECT vs DROP)
 */
public record ResolvedService(
        ServicePort port,
        List<Endpoint> allEndpoints,
        List<Endpoint> clusterEndpoints,
        List<Endpoint> localEndpoints,
        boolean hasAnyEndpoints) {

    public ResolvedService {
        Objects.requireNonNull(port, "port");
        allEndpoints = List.copyOf(allEndpoints);
        clusterEndpoints = List.copyOf(clusterEndpoints);
        localEndpoints = List.copyOf(localEndpoints);
    }

    public ServicePortName name() {
        return port.name();
    }

    /** Cluster and local endpoints together, each once, in a stable order: the endpoints that get a chain. */
    public List<Endpoint> reachableEndpoints() {
        LinkedHashSet<Endpoint> union = new LinkedHashSet<>(clusterEndpoints);
        union.addAll(localEndpoints);
        List<Endpoint> sorted = new ArrayList<>(union);
        sorted.sort(java.util.Comparator.comparing(Endpoint::hostPort));
        return List.copyOf(sorted);
    }

    /** Endpoints that are serving: what a UDP flow may keep pointing at without its conntrack entry going stale. */
    public List<Endpoint> servingEndpoints() {
        return allEndpoints.stream().filter(Endpoint::serving).toList();
    }
}
