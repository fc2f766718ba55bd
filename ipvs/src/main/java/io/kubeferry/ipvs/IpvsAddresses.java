package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.NodePortAddresses;
import io.kubeferry.proxy.exec.InterfaceAddresses;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;

import java.util.List;
import java.util.Set;

/** Pure: the addresses IPVS mode works with, kube-ipvs0's and the node's own. */
final class IpvsAddresses {

    /** The dummy interface that holds every Service IP, so the kernel accepts packets to them as local (upstream's name). */
    static final String DEVICE = "kube-ipvs0";

    private IpvsAddresses() {
    }

    /**
     * {@code ip -batch} lines that make kube-ipvs0 hold exactly {@code desired} (of one family: {@code current} is
     * only that family's, so the other family's addresses are never deleted). Each is a host address: /32, /128.
     */
    static String program(Set<String> desired, Set<String> current) {
        StringBuilder out = new StringBuilder();
        for (String a : current) {
            if (!desired.contains(a)) {
                out.append("address del ").append(a).append(hostMask(a)).append(" dev ").append(DEVICE).append('\n');
            }
        }
        for (String a : desired) {
            if (!current.contains(a)) {
                out.append("address add ").append(a).append(hostMask(a)).append(" dev ").append(DEVICE).append('\n');
            }
        }
        return out.toString();
    }

    /** {@code /32} for an IPv4 address, {@code /128} for an IPv6 one. */
    private static String hostMask(String address) {
        IpFamily family = IpFamily.of(address);
        return "/" + (family == null ? IpFamily.IPv4 : family).bits();
    }

    /**
     * The node's own addresses: every interface's but kube-ipvs0's, loopback's and (IPv6) link-local ones
     * (upstream: local addresses minus kube-ipvs0's, as its netlink handle's isValidForSet), each once.
     */
    static List<String> nodeAddresses(List<InterfaceAddresses.Address> all, Set<String> onDevice) {
        return all.stream()
                .filter(a -> !a.device().equals(DEVICE) && !notANodeAddress(a.ip()) && !onDevice.contains(a.ip()))
                .map(InterfaceAddresses.Address::ip).distinct().toList();
    }

    private static final Cidr LINK_LOCAL = Cidr.parse("fe80::/10");

    /**
     * Loopback, and IPv6's link-local addresses: every IPv6 link has one, none is reachable beyond its link, and
     * none is ever kube-ferry's (so neither a NodePort goes there nor does a sync or cleanup remove one).
     */
    static boolean notANodeAddress(String ip) {
        return ip.startsWith("127.") || ip.equals("::1") || LINK_LOCAL.contains(ip);
    }

    /** The addresses NodePorts are served on: {@code addresses} narrowed by nodePortAddresses ({@code wanted}). */
    static List<String> forNodePorts(List<String> wanted, List<String> addresses) {
        return NodePortAddresses.all(wanted) ? addresses : NodePortAddresses.select(wanted, addresses);
    }

    /** Whether kube-ipvs0 exists in the namespace {@code tools} runs in. */
    static boolean deviceExists(ToolRunner tools) throws ToolException {
        return tools.runAllowingFailure(ToolCommand.of("ip", "link", "show", DEVICE)).ok();
    }
}
