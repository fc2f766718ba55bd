package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.NodePortAddresses;
import io.kubeferry.proxy.exec.InterfaceAddresses;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolRunner;

import java.util.List;
import java.util.Set;

/** Pure: the addresses IPVS mode works with, kube-ipvs0's and the node's own. */
final class IpvsAddresses {

    /** The dummy interface that holds every Service IP, so the kernel accepts packets to them as local (upstream's name). */
    static final String DEVICE = "kube-ipvs0";

    private IpvsAddresses() {
    }

    /** {@code ip -batch} lines that make kube-ipvs0 hold exactly {@code desired}. */
    static String program(Set<String> desired, Set<String> current) {
        StringBuilder out = new StringBuilder();
        for (String a : current) {
            if (!desired.contains(a)) {
                out.append("address del ").append(a).append("/32 dev ").append(DEVICE).append('\n');
            }
        }
        for (String a : desired) {
            if (!current.contains(a)) {
                out.append("address add ").append(a).append("/32 dev ").append(DEVICE).append('\n');
            }
        }
        return out.toString();
    }

    /**
     * The node's own IPv4 addresses: every interface's but kube-ipvs0's and loopback's (upstream: local addresses
     * minus kube-ipvs0's), each once.
     */
    static List<String> nodeAddresses(List<InterfaceAddresses.Address> all, Set<String> onDevice) {
        return all.stream()
                .filter(a -> !a.device().equals(DEVICE) && !a.ip().startsWith("127.") && !onDevice.contains(a.ip()))
                .map(InterfaceAddresses.Address::ip).distinct().toList();
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
