package io.kubeferry.ipvs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides what happens to real servers sitting at weight 0. Stateless on purpose: it looks at the kernel
 * every time, so after an agent restart a weight-0 server is never forgotten (upstream k/k#92019):
 * if it is desired again it gets its weight back; if not, it is deleted once drained.
 * TCP drains when ActiveConn+InActConn reach 0; UDP/SCTP are deleted at once (no connection end to wait for).
 */
final class GracefulTermination {
    private GracefulTermination() {}

    /**
     * @param current     real servers in the kernel
     * @param services    current virtual servers by key
     * @param desiredKeys {@link RealServer#key()} of every desired real server
     * @param connections ActiveConn+InActConn by real-server key (from {@code ipvsadm -Ln})
     */
    static List<String> check(List<RealServer> current, Map<String, VirtualServer> services, Set<String> desiredKeys,
                              Map<String, Integer> connections) {
        List<String> out = new ArrayList<>();
        for (RealServer r : current) {
            if (r.weight() != 0) continue;
            VirtualServer v = services.get(r.virtualKey());
            if (v == null) continue;
            String rs = " -r " + (r.address().contains(":") ? "[" + r.address() + "]" : r.address()) + ":" + r.port();
            if (desiredKeys.contains(r.key())) {
                out.add("-e " + IpvsDiff.service(v) + rs + " -m -w 1");
            } else if (!v.protocol().equals("tcp") || connections.getOrDefault(r.key(), 0) == 0) {
                out.add("-d " + IpvsDiff.service(v) + rs);
            }
        }
        return out;
    }
}
