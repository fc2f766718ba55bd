package io.kubeferry.proxy.model;

import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The immutable snapshot a dataplane programs: every Service port this node serves with its chosen
 * endpoints. Built by the sync stage; never shared mutably with the watch side.
 *
 * @param node         this node
 * @param services     every Service port, in a stable order
 * @param generation   increases with every snapshot built, for logs and /debug
 * @param serviceCIDRs the cluster's ServiceCIDRs of this family (the {@code spec.cidrs} of its networking.k8s.io/v1
 *                     ServiceCIDR objects), each once, in ascending order; empty when there are none or the API
 *                     server does not serve them. Only nftables mode reads them, as upstream: traffic to an
 *                     address inside one that no Service holds is dropped
 * @param family       the IP family this snapshot is for: every address in it (ClusterIPs, external and
 *                     load-balancer IPs, source ranges, endpoints, the node's addresses) is of this family. A node
 *                     runs one snapshot per family it has, as upstream runs one proxier per family
 */
public record ProxyState(NodeInfo node, SortedMap<ServicePortName, ResolvedService> services, long generation, List<Cidr> serviceCIDRs,
        IpFamily family) {

    public ProxyState {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(family, "family");
        services = Collections.unmodifiableSortedMap(new TreeMap<>(services));
        serviceCIDRs = List.copyOf(serviceCIDRs);
    }

    /** An IPv4 snapshot. */
    public ProxyState(NodeInfo node, SortedMap<ServicePortName, ResolvedService> services, long generation, List<Cidr> serviceCIDRs) {
        this(node, services, generation, serviceCIDRs, IpFamily.IPv4);
    }

    /** An IPv4 snapshot without ServiceCIDRs. */
    public ProxyState(NodeInfo node, SortedMap<ServicePortName, ResolvedService> services, long generation) {
        this(node, services, generation, List.of());
    }

    /** An empty IPv4 snapshot. */
    public static ProxyState empty(NodeInfo node) {
        return empty(node, IpFamily.IPv4);
    }

    public static ProxyState empty(NodeInfo node, IpFamily family) {
        return new ProxyState(node, new TreeMap<>(), 0, List.of(), family);
    }

    /** The same snapshot for {@code value} (e.g. the node's addresses given on the command line). */
    public ProxyState withNode(NodeInfo value) {
        return new ProxyState(value, services, generation, serviceCIDRs, family);
    }
}
