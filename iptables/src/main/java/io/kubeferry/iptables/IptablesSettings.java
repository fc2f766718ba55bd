package io.kubeferry.iptables;

import java.util.List;

/**
 * The configuration the renderer reads, resolved from the KubeProxyConfiguration and the node.
 *
 * @param masqueradeMark     e.g. {@code 0x4000}
 * @param masqueradeAll      SNAT everything sent to a ClusterIP
 * @param localCIDR          the pod CIDR for local detection ("" = detection off)
 * @param nodePortIPs        the node addresses NodePorts open on; null = every local address (addrtype LOCAL)
 * @param localhostNodePorts whether NodePorts also answer on 127.0.0.1
 * @param dropInvalid        write the conntrack INVALID drop rule (off when nf_conntrack_tcp_be_liberal is 1)
 * @param nodeIP             the node's primary address, for LB source ranges that contain the node
 */
record IptablesSettings(String masqueradeMark, boolean masqueradeAll, String localCIDR, List<String> nodePortIPs,
                        boolean localhostNodePorts, boolean dropInvalid, String nodeIP) {

    IptablesSettings {
        nodePortIPs = nodePortIPs == null ? null : List.copyOf(nodePortIPs);
        nodeIP = nodeIP == null ? "" : nodeIP;
    }

    static IptablesSettings defaults() {
        return new IptablesSettings("0x4000", false, "", null, true, true, "");
    }

    IptablesSettings withNodePortIPs(List<String> ips) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, ips, localhostNodePorts, dropInvalid, nodeIP);
    }

    IptablesSettings withDropInvalid(boolean drop) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, localhostNodePorts, drop, nodeIP);
    }

    IptablesSettings withNodeIP(String ip) {
        return new IptablesSettings(masqueradeMark, masqueradeAll, localCIDR, nodePortIPs, localhostNodePorts, dropInvalid, ip);
    }
}
