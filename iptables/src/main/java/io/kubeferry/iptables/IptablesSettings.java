package io.kubeferry.iptables;

import io.kubeferry.proxy.model.IpFamily;

import java.util.List;
import java.util.Set;

/**
 * The configuration the renderer reads, resolved from the KubeProxyConfiguration, the node and its kernel.
 *
 * @param masqueradeMark     e.g. {@code 0x4000}
 * @param masqueradeAll      SNAT everything sent to a ClusterIP
 * @param localCIDR          the pod CIDR for local detection ("" = detection off)
 * @param nodePortIPs        the node addresses NodePorts open on; null = every local address (addrtype LOCAL)
 * @param localhostNodePorts whether NodePorts also answer on 127.0.0.1: {@code iptables.localhostNodePorts} and
 *                           {@code nodePortAddresses} covering 127.0.0.0/8, as upstream decides it
 * @param dropInvalid        write the conntrack INVALID drop rule (off when nf_conntrack_tcp_be_liberal is 1)
 * @param nodeIP             the node's primary address, for LB source ranges that contain the node
 * @param nfacctCounters     the nfacct counters that exist in the kernel (see {@link NfacctCounters}); rules
 *                           count into a counter only when it is here, as an {@code -m nfacct} match on a
 *                           missing counter would fail the whole restore
 * @param kubeletFirewall    whether kubelet's {@code KUBE-FIREWALL} chain already exists in the filter table
 *                           (when localhost NodePorts are off it is then left as it is, not flushed)
 * @param family             the family of the program (ip6tables' for IPv6): every address above is of it; it
 *                           decides the loopback block NodePorts keep away from and a single address's prefix length
 */
record IptablesSettings(String masqueradeMark, boolean masqueradeAll, String localCIDR, List<String> nodePortIPs,
        boolean localhostNodePorts, boolean dropInvalid, String nodeIP, Set<String> nfacctCounters,
        boolean kubeletFirewall, IpFamily family) {

    IptablesSettings {
        nodePortIPs = nodePortIPs == null ? null : List.copyOf(nodePortIPs);
        nodeIP = nodeIP == null ? "" : nodeIP;
        nfacctCounters = Set.copyOf(nfacctCounters);
        java.util.Objects.requireNonNull(family, "family");
        // route_localnet, which lets a DNATed loopback packet be routed, exists for IPv4 only: upstream's IPv6
        // proxier never has localhost NodePorts (its nodePortAddresses never contain IPv4 loopback).
        localhostNodePorts = localhostNodePorts && family == IpFamily.IPv4;
    }

    /** IPv4 settings. */
    IptablesSettings(String masqueradeMark, boolean masqueradeAll, String localCIDR, List<String> nodePortIPs,
            boolean localhostNodePorts, boolean dropInvalid, String nodeIP, Set<String> nfacctCounters, boolean kubeletFirewall) {
        this(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, localhostNodePorts, dropInvalid, nodeIP, nfacctCounters,
                kubeletFirewall, IpFamily.IPv4);
    }

    /** Settings for a kernel without nfacct counters and without kubelet's chain. */
    IptablesSettings(String masqueradeMark, boolean masqueradeAll, String localCIDR, List<String> nodePortIPs,
            boolean localhostNodePorts, boolean dropInvalid, String nodeIP) {
        this(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, localhostNodePorts, dropInvalid, nodeIP, Set.of(), false);
    }

    static IptablesSettings defaults() {
        return new IptablesSettings("0x4000", false, "", null, true, true, "");
    }

    IptablesSettings withNodePortIPs(List<String> ips) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, ips, localhostNodePorts, dropInvalid, nodeIP,
                nfacctCounters, kubeletFirewall, family);
    }

    IptablesSettings withDropInvalid(boolean drop) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, localhostNodePorts, drop, nodeIP,
                nfacctCounters, kubeletFirewall, family);
    }

    IptablesSettings withNodeIP(String ip) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, localhostNodePorts, dropInvalid, ip,
                nfacctCounters, kubeletFirewall, family);
    }

    IptablesSettings withLocalhostNodePorts(boolean on) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, on, dropInvalid, nodeIP,
                nfacctCounters, kubeletFirewall, family);
    }

    IptablesSettings withNfacctCounters(Set<String> counters) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, localhostNodePorts, dropInvalid, nodeIP,
                counters, kubeletFirewall, family);
    }

    IptablesSettings withKubeletFirewall(boolean present) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, localhostNodePorts, dropInvalid, nodeIP,
                nfacctCounters, present, family);
    }

    /** The same settings for {@code value}'s program (IPv6: never localhost NodePorts). */
    IptablesSettings withFamily(IpFamily value) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, localhostNodePorts, dropInvalid, nodeIP,
                nfacctCounters, kubeletFirewall, value);
    }

    /** True for an address of this family's loopback block (127.0.0.0/8, ::1). */
    boolean loopback(String ip) {
        return io.kubeferry.proxy.model.Cidr.parse(family.loopback()).contains(ip);
    }

    /** Whether the rules may count into {@code counter}. */
    boolean counts(String counter) {
        return nfacctCounters.contains(counter);
    }
}
