package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.Protocol;

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
            VirtualServer v = services.get(r.virtualKey());
            if (r.weight() == 0 && v != null && desiredKeys.contains(r.key())) {
                out.add("-e " + IpvsDiff.service(v) + IpvsDiff.real(new RealServer(r.virtualKey(), r.address(), r.port(), 1)));
            }
        }
        for (RealServer r : drained(current, services, desiredKeys, connections)) {
            out.add(deletion(services.get(r.virtualKey()), r));
        }
        return out;
    }

    /** The weight-0 real servers no longer desired that can go now: drained TCP ones, and any UDP/SCTP one. */
    static List<RealServer> drained(List<RealServer> current, Map<String, VirtualServer> services, Set<String> desiredKeys,
                                    Map<String, Integer> connections) {
        List<RealServer> out = new ArrayList<>();
        for (RealServer r : current) {
            VirtualServer v = services.get(r.virtualKey());
            if (r.weight() != 0 || v == null || desiredKeys.contains(r.key())) continue;
            if (v.protocol() != Protocol.TCP || connections.getOrDefault(r.key(), 0) == 0) out.add(r);
        }
        return out;
    }

    /** The ipvsadm line that deletes one real server. */
    static String deletion(VirtualServer v, RealServer r) {
        return "-d " + IpvsDiff.service(v) + " -r " + IpvsDiff.hostPort(r.address(), r.port());
    }
}
