package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.IpFamily;

import java.util.List;

/**
 * What IPVS mode needs to know besides the cluster state; resolved from the configuration and the node.
 *
 * @param masqueradeMark  the fwmark bit that asks for SNAT, e.g. 0x4000
 * @param masqueradeAll   SNAT all traffic to cluster IPs
 * @param clusterCIDR     the pod CIDR: traffic to cluster IPs from outside it is SNATed ("" when unknown)
 * @param nodeIPs         the node addresses NodePorts are served on (kube-ipvs0's own are never among them)
 * @param defaultScheduler the global scheduler
 * @param excludeCIDRs    virtual servers inside these are not kube-ferry's and are never touched
 * @param dropInvalid     drop conntrack-INVALID packets in KUBE-FORWARD (off when the kernel is TCP-liberal)
 * @param nodeIP          the node's first local address (kube-ipvs0's and loopback's aside), "" when it has none:
 *                        upstream's nodeIP when the Node object names no address
 * @param family          the IP family the instance programs: its ipset names, address masks and which of the
 *                        kernel's virtual servers and addresses it may touch
 */
record IpvsSettings(String masqueradeMark, boolean masqueradeAll, String clusterCIDR, List<String> nodeIPs,
        String defaultScheduler, List<String> excludeCIDRs, boolean dropInvalid, String nodeIP, IpFamily family) {

    IpvsSettings {
        nodeIPs = List.copyOf(nodeIPs);
        excludeCIDRs = List.copyOf(excludeCIDRs);
        java.util.Objects.requireNonNull(family, "family");
    }

    /** IPv4's settings. */
    IpvsSettings(String masqueradeMark, boolean masqueradeAll, String clusterCIDR, List<String> nodeIPs, String defaultScheduler,
            List<String> excludeCIDRs, boolean dropInvalid, String nodeIP) {
        this(masqueradeMark, masqueradeAll, clusterCIDR, nodeIPs, defaultScheduler, excludeCIDRs, dropInvalid, nodeIP, IpFamily.IPv4);
    }

    /** The name of {@code set} in this family ({@link Ipset#name(IpFamily)}). */
    String set(Ipset set) {
        return set.name(family);
    }

    IpvsSettings withNodeIPs(List<String> ips) {
        return new IpvsSettings(masqueradeMark, masqueradeAll, clusterCIDR, ips, defaultScheduler, excludeCIDRs, dropInvalid, nodeIP,
                family);
    }

    IpvsSettings withDropInvalid(boolean value) {
        return new IpvsSettings(masqueradeMark, masqueradeAll, clusterCIDR, nodeIPs, defaultScheduler, excludeCIDRs, value, nodeIP, family);
    }

    IpvsSettings withNodeIP(String ip) {
        return new IpvsSettings(masqueradeMark, masqueradeAll, clusterCIDR, nodeIPs, defaultScheduler, excludeCIDRs, dropInvalid, ip,
                family);
    }
}
