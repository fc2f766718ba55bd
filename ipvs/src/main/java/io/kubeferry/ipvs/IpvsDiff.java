package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Desired vs current IPVS table -> the smallest set of ipvsadm edits. Never flushes: a virtual server is only
 * deleted when kube-ferry owns it ({@code ours}), so foreign and excluded-CIDR services are left alone.
 * Changed scheduler/flags/persistence become an edit (-E) so existing connections survive.
 * A TCP real server no longer desired goes to weight 0 ({@code -e}) instead of being deleted: graceful
 * termination removes it later once its connections have drained. UDP and SCTP real servers are deleted at
 * once: there is no connection end to wait for, and expire_nodest_conn moves their flows on. So is a TCP real
 * server in {@code cutAtOnce} (its endpoint was removed, not terminating, from a Service opted in to
 * {@code kube-ferry.io/conntrack-flush-tcp}). What the kernel then does (seen in the guest, Debian 6.1): with
 * expire_nodest_conn=1, deleting a real server expires its IPVS connections at once (kernels from 5.9; before, the
 * next packet of each does, that packet being dropped), and with net.ipv4.vs.conntrack=1 their conntrack entries go
 * with them. The client's next segment belongs to no IPVS connection, is not a SYN so is not scheduled, reaches the
 * virtual IP on kube-ipvs0, where no socket listens, and the node answers with a reset (0.02 s in the guest): the
 * client fails at once instead of writing into a gone pod. Left at weight 0, the connection would have been
 * forwarded to the pod's address for as long as it lasts, whatever conntrack held.
 */
final class IpvsDiff {

    private IpvsDiff() {
    }

    static IpvsPlan between(IpvsSaveParser.Table desired, IpvsSaveParser.Table current, Predicate<VirtualServer> ours) {
        return between(desired, current, ours, Set.of());
    }

    /** @param cutAtOnce {@link RealServer#key()} of TCP real servers deleted at once when no longer desired */
    static IpvsPlan between(IpvsSaveParser.Table desired, IpvsSaveParser.Table current, Predicate<VirtualServer> ours,
            Set<String> cutAtOnce) {
        List<String> out = new ArrayList<>();
        List<RealServer> resultRs = new ArrayList<>(desired.realServers());
        Map<String, VirtualServer> cur = byKey(current.virtualServers(), VirtualServer::key);
        Map<String, VirtualServer> want = byKey(desired.virtualServers(), VirtualServer::key);
        Map<String, RealServer> curRs = byKey(current.realServers(), RealServer::key);
        Map<String, RealServer> wantRs = byKey(desired.realServers(), RealServer::key);
        for (VirtualServer v : desired.virtualServers()) {
            VirtualServer c = cur.get(v.key());
            if (c == null)
                out.add("-A " + service(v) + options(v));
            else if (!c.equals(v))
                out.add("-E " + service(v) + options(v));
        }
        for (RealServer r : desired.realServers()) {
            RealServer c = curRs.get(r.key());
            VirtualServer v = want.get(r.virtualKey());
            if (c == null)
                out.add("-a " + service(v) + real(r));
            else if (c.weight() != r.weight())
                out.add("-e " + service(v) + real(r));
        }
        for (RealServer c : current.realServers()) {
            VirtualServer v = cur.get(c.virtualKey());
            if (v == null || wantRs.containsKey(c.key()))
                continue;
            if (!ours.test(v)) {
                resultRs.add(c);
                continue;
            }
            if (!want.containsKey(v.key()))
                continue;
            if (v.protocol() != Protocol.TCP || cutAtOnce.contains(c.key())) {
                out.add(GracefulTermination.deletion(v, c));
                continue;
            }
            if (c.weight() != 0)
                out.add("-e " + service(v) + real(new RealServer(c.virtualKey(), c.address(), c.port(), 0)));
            resultRs.add(new RealServer(c.virtualKey(), c.address(), c.port(), 0));
        }
        List<VirtualServer> resultVs = new ArrayList<>(desired.virtualServers());
        for (VirtualServer c : current.virtualServers()) {
            if (want.containsKey(c.key()))
                continue;
            if (ours.test(c))
                out.add("-D " + service(c));
            else
                resultVs.add(c);
        }
        return new IpvsPlan(out, new IpvsSaveParser.Table(List.copyOf(resultVs), List.copyOf(resultRs)));
    }

    /** IPv4's virtual servers kube-ferry may change ({@link #owned(Set, List, List, IpFamily)}). */
    static Predicate<VirtualServer> owned(Set<String> dummyAddresses, List<String> nodeIPs, List<String> excludeCIDRs) {
        return owned(dummyAddresses, nodeIPs, excludeCIDRs, IpFamily.IPv4);
    }

    /**
     * Virtual servers kube-ferry's {@code family} instance may change: of that family, on kube-ipvs0's addresses or
     * the node's (both lists are that family's), never in that family's excludeCIDRs. Both families' instances share
     * the kernel's one IPVS table: the other family's virtual servers are never this instance's to edit or delete.
     */
    static Predicate<VirtualServer> owned(Set<String> dummyAddresses, List<String> nodeIPs, List<String> excludeCIDRs,
            IpFamily family) {
        Set<String> mine = new HashSet<>(dummyAddresses);
        mine.addAll(nodeIPs);
        List<Cidr> excluded = excludeCIDRs.stream().filter(family::matches).map(Cidr::parse).toList();
        return v -> family.matches(v.address()) && mine.contains(v.address())
                && excluded.stream().noneMatch(c -> c.contains(v.address()));
    }

    private static <T> Map<String, T> byKey(List<T> items, Function<T, String> key) {
        return items.stream().collect(Collectors.toMap(key, x -> x, (a, b) -> a, java.util.LinkedHashMap::new));
    }

    static String service(VirtualServer v) {
        String flag = switch (v.protocol()) {
            case TCP -> "-t";
            case UDP -> "-u";
            case SCTP -> "--sctp-service";
        };
        return flag + " " + hostPort(v.address(), v.port());
    }

    private static String options(VirtualServer v) {
        StringBuilder b = new StringBuilder(" -s ").append(v.scheduler());
        if (!v.flags().isEmpty())
            b.append(" -b ").append(String.join(",", new java.util.TreeSet<>(v.flags())));
        if (v.persistence() > 0)
            b.append(" -p ").append(v.persistence());
        return b.toString();
    }

    static String real(RealServer r) {
        return " -r " + hostPort(r.address(), r.port()) + " -m -w " + r.weight();
    }

    static String hostPort(String a, int p) {
        return (a.contains(":") ? "[" + a + "]" : a) + ":" + p;
    }
}
