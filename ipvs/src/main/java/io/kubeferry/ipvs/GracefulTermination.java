package io.kubeferry.ipvs;

import io.kubeferry.proxy.conntrack.ConntrackChanges;
import io.kubeferry.proxy.conntrack.TcpFlushPolicy;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides what happens to real servers sitting at weight 0. Stateless on purpose: it looks at the kernel
 * every time, so after an agent restart a weight-0 server is never forgotten (upstream k/k#92019):
 * if it is desired again it gets its weight back; if not, it is deleted once drained.
 * TCP drains when ActiveConn+InActConn reach 0; UDP/SCTP are deleted at once (no connection end to wait for).
 * The exception is a Service opted in to cutting the TCP flows of removed endpoints ({@link TcpFlushPolicy}): an
 * endpoint that left its EndpointSlices while not terminating is not drained ({@link #cutAtOnce}), because draining
 * is exactly what leaves its clients hanging on a gone pod (kubernetes#100698); a terminating one still drains.
 */
final class GracefulTermination {

    private GracefulTermination() {
    }

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
            if (r.weight() != 0 || v == null || desiredKeys.contains(r.key()))
                continue;
            if (v.protocol() != Protocol.TCP || connections.getOrDefault(r.key(), 0) == 0)
                out.add(r);
        }
        return out;
    }

    /**
     * One housekeeping pass's deletions.
     *
     * @param drained     the real servers that go now
     * @param restoreText the {@code ipvsadm -R} input that deletes them (empty when none)
     * @param after       the kernel once they are gone
     */
    record Sweep(List<RealServer> drained, String restoreText, IpvsKernelState after) {
    }

    /** True when some real server sits at weight 0, so housekeeping has connections to look at. */
    static boolean anyDraining(IpvsKernelState state) {
        return state.table().realServers().stream().anyMatch(r -> r.weight() == 0);
    }

    /** The drained real servers of {@code state} given the live connections per real server, and what deletes them. */
    static Sweep sweep(IpvsKernelState state, Map<String, Integer> connections) {
        Map<String, VirtualServer> byKey = new HashMap<>();
        state.table().virtualServers().forEach(v -> byKey.put(v.key(), v));
        List<RealServer> drained = drained(state.table().realServers(), byKey, state.desiredRealServers(), connections);
        String text = drained.stream().map(r -> deletion(byKey.get(r.virtualKey()), r) + "\n").collect(Collectors.joining());
        Set<String> gone = drained.stream().map(RealServer::key).collect(Collectors.toSet());
        List<RealServer> kept = state.table().realServers().stream().filter(r -> !gone.contains(r.key())).toList();
        return new Sweep(List.copyOf(drained), text, state.withRealServers(kept));
    }

    /**
     * The endpoints, per Service port, whose real servers are deleted at once rather than set to weight 0: the
     * removals from the last programmed state to this one that {@code policy} cuts (TCP, opted in, not terminating
     * when last seen; the conntrack hook deletes the same endpoints' conntrack entries after the sync). Only known
     * between two states this agent programmed: after a restart, an endpoint removed meanwhile drains as before.
     */
    static Map<ServicePortName, List<Endpoint>> cutAtOnce(TcpFlushPolicy policy, ConntrackChanges changes) {
        Map<ServicePortName, List<Endpoint>> out = new HashMap<>();
        for (ConntrackChanges.ServiceEndpoint r : policy.cut(changes)) {
            out.computeIfAbsent(r.service().name(), k -> new ArrayList<>()).add(r.endpoint());
        }
        return out;
    }

    /** The ipvsadm line that deletes one real server. */
    static String deletion(VirtualServer v, RealServer r) {
        return "-d " + IpvsDiff.service(v) + " -r " + IpvsDiff.hostPort(r.address(), r.port());
    }
}
