package io.kubeferry.nftables;

import java.util.List;

/**
 * What the renderer reads besides the state, resolved from the KubeProxyConfiguration and the node.
 *
 * @param masqueradeMark e.g. {@code 0x4000} ({@code nftables.masqueradeBit})
 * @param masqueradeAll  SNAT everything sent to a ClusterIP ({@code nftables.masqueradeAll})
 * @param localCIDR      the table's family's pod CIDR for local detection (detectLocalMode ClusterCIDR); "" = detection off
 * @param nodePortIPs    the addresses NodePorts answer on (the {@code nodeport-ips} set); null = every local
 *                       address ({@code fib daddr type local}), nodePortAddresses {@code all}. Loopback (127.0.0.0/8,
 *                       ::1) never counts: upstream's nftables mode has no localhost NodePorts
 * @param nodeIP         the node's primary address: a source range holding it also admits the LB IPs as sources
 * @param serviceCIDRs   the cluster's ServiceCIDRs; traffic to an unallocated address in them is dropped (none: no rule)
 */
public record NftablesSettings(String masqueradeMark, boolean masqueradeAll, String localCIDR, List<String> nodePortIPs,
        String nodeIP, List<String> serviceCIDRs) {

    public NftablesSettings {
        localCIDR = localCIDR == null ? "" : localCIDR;
        nodePortIPs = nodePortIPs == null ? null : nodePortIPs.stream().filter(ip -> !ip.startsWith("127.") && !ip.equals("::1")).toList();
        nodeIP = nodeIP == null ? "" : nodeIP;
        serviceCIDRs = serviceCIDRs == null ? List.of() : List.copyOf(serviceCIDRs);
    }

    public static NftablesSettings defaults() {
        return new NftablesSettings("0x4000", false, "", null, "", List.of());
    }

    public boolean allNodeAddresses() {
        return nodePortIPs == null;
    }

    public NftablesSettings withNodePortIPs(List<String> ips) {
        return new NftablesSettings(masqueradeMark, masqueradeAll, localCIDR, ips, nodeIP, serviceCIDRs);
    }

    public NftablesSettings withServiceCIDRs(List<String> cidrs) {
        return new NftablesSettings(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, nodeIP, cidrs);
    }

    public NftablesSettings withMasqueradeAll(boolean all) {
        return new NftablesSettings(masqueradeMark, all, localCIDR, nodePortIPs, nodeIP, serviceCIDRs);
    }
}
