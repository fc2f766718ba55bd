package io.kubeferry.proxy.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the dataplanes need to know about one Service port in one IP family, already validated and
 * normalised. A dual-stack Service has one ServicePort per family, each in its family's {@link ProxyState}; every
 * address in it is of that family, IPv6 in canonical form ({@link Cidr#canonical}).
 *
 * @param name                      identity of the port (the same in both families)
 * @param clusterIP                 this family's ClusterIP (never empty: headless Services are filtered out)
 * @param port                      the Service port
 * @param nodePort                  the NodePort, 0 when none
 * @param externalIPs               spec.externalIPs of this family
 * @param loadBalancerIPs           status.loadBalancer.ingress[].ip of this family (ingresses with ipMode Proxy excluded)
 * @param loadBalancerSourceRanges  spec.loadBalancerSourceRanges of this family as CIDRs; empty (no filtering) when the
 *                                  Service lists none of this family or one is a /0, as upstream
 * @param externalPolicyLocal       externalTrafficPolicy == Local (only meaningful when externally reachable)
 * @param internalPolicyLocal       internalTrafficPolicy == Local
 * @param healthCheckNodePort       spec.healthCheckNodePort, 0 when none
 * @param stickyMaxAgeSeconds       ClientIP session affinity timeout, 0 when affinity is None
 * @param options                   kube-ferry's own per-Service settings: annotations under {@code kube-ferry.io/}
 */
public record ServicePort(
        ServicePortName name,
        String clusterIP,
        int port,
        int nodePort,
        List<String> externalIPs,
        List<String> loadBalancerIPs,
        List<String> loadBalancerSourceRanges,
        boolean externalPolicyLocal,
        boolean internalPolicyLocal,
        int healthCheckNodePort,
        int stickyMaxAgeSeconds,
        Map<String, String> options) {

    public ServicePort {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(clusterIP, "clusterIP");
        externalIPs = List.copyOf(externalIPs);
        loadBalancerIPs = List.copyOf(loadBalancerIPs);
        loadBalancerSourceRanges = List.copyOf(loadBalancerSourceRanges);
        options = Map.copyOf(options);
    }

    public Protocol protocol() {
        return name.protocol();
    }

    /** True when traffic can arrive from outside the cluster: NodePort, externalIPs or LoadBalancer IPs. */
    public boolean externallyAccessible() {
        return nodePort > 0 || !externalIPs.isEmpty() || !loadBalancerIPs.isEmpty();
    }

    /** True when the external traffic policy is Local and it matters (upstream's ExternalPolicyLocal). */
    public boolean usesExternalLocal() {
        return externalPolicyLocal && externallyAccessible();
    }

    /**
     * Upstream's UsesClusterEndpoints: some traffic to this port is sent to any endpoint in the cluster. Any port
     * reachable from outside counts, even with externalTrafficPolicy Local: pods and the node itself reach an
     * external address through the cluster endpoints (upstream's short circuit), so its cluster chain must exist.
     */
    public boolean usesClusterEndpoints() {
        return !internalPolicyLocal || externallyAccessible();
    }

    /** Upstream's UsesLocalEndpoints: some traffic to this port is sent only to endpoints on this node. */
    public boolean usesLocalEndpoints() {
        return internalPolicyLocal || usesExternalLocal();
    }

    public boolean sessionAffinity() {
        return stickyMaxAgeSeconds > 0;
    }
}
