package io.kubeferry.ipvs;

import io.kubeferry.iptables.JumpRule;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.scheduler.SchedulerChoice;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Pure: cluster state -> what IPVS mode wants in the kernel. Virtual servers and real servers, the addresses
 * kube-ipvs0 must hold, the ipset members, and the (fixed) iptables rules that match on those sets.
 */
final class IpvsRenderer {

    static final String KUBE_SERVICES = "KUBE-SERVICES";
    static final String KUBE_POSTROUTING = "KUBE-POSTROUTING";
    static final String KUBE_MARK_MASQ = "KUBE-MARK-MASQ";
    static final String KUBE_NODE_PORT = "KUBE-NODE-PORT";
    static final String KUBE_LOAD_BALANCER = "KUBE-LOAD-BALANCER";
    static final String KUBE_FORWARD = "KUBE-FORWARD";
    static final String KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
    static final String KUBE_SOURCE_RANGES_FIREWALL = "KUBE-SOURCE-RANGES-FIREWALL";
    static final String KUBE_IPVS_FILTER = "KUBE-IPVS-FILTER";

    static final List<String> NAT_CHAINS = List.of(KUBE_SERVICES, KUBE_POSTROUTING, KUBE_NODE_PORT, KUBE_LOAD_BALANCER, KUBE_MARK_MASQ);
    static final List<String> FILTER_CHAINS = List.of(KUBE_FORWARD, KUBE_NODE_PORT, KUBE_PROXY_FIREWALL,
            KUBE_SOURCE_RANGES_FIREWALL, KUBE_IPVS_FILTER);

    /** IPVS mode's jumps; comments and matches as upstream's, so the ones both modes use are recognised either way. */
    static final List<JumpRule> JUMPS = List.of(
            new JumpRule("filter", "FORWARD", KUBE_FORWARD, "kubernetes forwarding rules", ""),
            new JumpRule("filter", "INPUT", KUBE_NODE_PORT, "kubernetes health check rules", ""),
            new JumpRule("filter", "INPUT", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "FORWARD", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "INPUT", KUBE_IPVS_FILTER, "kubernetes ipvs access filter", ""),
            new JumpRule("nat", "OUTPUT", KUBE_SERVICES, "kubernetes service portals", ""),
            new JumpRule("nat", "PREROUTING", KUBE_SERVICES, "kubernetes service portals", ""),
            new JumpRule("nat", "POSTROUTING", KUBE_POSTROUTING, "kubernetes postrouting rules", ""));

    /** A Service asked for a scheduler this node cannot give. */
    record Fallback(ServicePortName service, String message) {}

    /**
     * Everything one sync wants.
     *
     * @param table     virtual and real servers
     * @param addresses what kube-ipvs0 holds: every ClusterIP, external IP and load-balancer IP
     * @param ipsets    members by set name (every set of {@link Ipset#ALL} is present, maybe empty)
     * @param fallbacks Services whose scheduler annotation could not be honoured
     */
    record Desired(IpvsSaveParser.Table table, SortedSet<String> addresses, Map<String, SortedSet<String>> ipsets,
                   List<Fallback> fallbacks) {}

    private IpvsRenderer() {}

    static Desired render(ProxyState state, IpvsSettings settings, SchedulerCatalog catalog) {
        Map<String, VirtualServer> services = new LinkedHashMap<>();
        List<RealServer> reals = new ArrayList<>();
        SortedSet<String> addresses = new TreeSet<>();
        Map<String, SortedSet<String>> sets = new TreeMap<>();
        Ipset.ALL.forEach(s -> sets.put(s.name(), new TreeSet<>()));
        List<Fallback> fallbacks = new ArrayList<>();

        for (ResolvedService svc : state.services().values()) {
            ServicePort p = svc.port();
            Protocol proto = p.protocol();
            SchedulerChoice choice = catalog.choose(p);
            choice.fallbackReason().ifPresent(reason -> fallbacks.add(new Fallback(p.name(), reason)));
            Set<String> flags = choice.scheduler().flags();
            String scheduler = choice.scheduler().name();
            int persistence = p.stickyMaxAgeSeconds();
            List<Endpoint> internal = p.internalPolicyLocal() ? svc.localEndpoints() : svc.clusterEndpoints();
            List<Endpoint> external = p.usesExternalLocal() ? svc.localEndpoints() : svc.clusterEndpoints();
            boolean local = p.usesExternalLocal();
            Target t = (address, port, endpoints) -> {
                VirtualServer vs = new VirtualServer(proto, address, port, scheduler, flags, persistence);
                if (services.putIfAbsent(vs.key(), vs) == null) {
                    for (Endpoint e : endpoints) {
                        reals.add(new RealServer(vs.key(), e.ip(), e.port(), 1));
                    }
                }
            };

            t.add(p.clusterIP(), p.port(), internal);
            addresses.add(p.clusterIP());
            sets.get(Ipset.CLUSTER_IP.name()).add(entry(p.clusterIP(), proto, p.port()));
            // Only endpoints on this node can reach themselves through it (hairpin).
            for (Endpoint e : svc.reachableEndpoints()) {
                if (!e.local()) continue;
                sets.get(Ipset.LOOP_BACK.name()).add(entry(e.ip(), proto, e.port()) + "," + e.ip());
            }
            for (String ip : p.externalIPs()) {
                t.add(ip, p.port(), external);
                addresses.add(ip);
                sets.get((local ? Ipset.EXTERNAL_IP_LOCAL : Ipset.EXTERNAL_IP).name()).add(entry(ip, proto, p.port()));
            }
            for (String ip : p.loadBalancerIPs()) {
                t.add(ip, p.port(), external);
                addresses.add(ip);
                String e = entry(ip, proto, p.port());
                sets.get(Ipset.LOAD_BALANCER.name()).add(e);
                if (local) {
                    sets.get(Ipset.LOAD_BALANCER_LOCAL.name()).add(e);
                }
                if (!p.loadBalancerSourceRanges().isEmpty()) {
                    sets.get(Ipset.LOAD_BALANCER_FW.name()).add(e);
                    for (String range : p.loadBalancerSourceRanges()) {
                        sets.get(Ipset.LOAD_BALANCER_SOURCE_CIDR.name()).add(e + "," + range);
                    }
                    // The node itself may always reach the load balancer IP (e.g. kubelet probes, hairpin).
                    for (String node : settings.nodeIPs()) {
                        sets.get(Ipset.LOAD_BALANCER_SOURCE_IP.name()).add(e + "," + node);
                    }
                }
            }
            if (p.nodePort() > 0) {
                for (String node : settings.nodeIPs()) {
                    t.add(node, p.nodePort(), external);
                }
                switch (p.protocol()) {
                    case TCP, UDP -> {
                        boolean tcp = p.protocol() == Protocol.TCP;
                        sets.get((tcp ? Ipset.NODE_PORT_TCP : Ipset.NODE_PORT_UDP).name()).add(Integer.toString(p.nodePort()));
                        if (local) {
                            sets.get((tcp ? Ipset.NODE_PORT_LOCAL_TCP : Ipset.NODE_PORT_LOCAL_UDP).name()).add(Integer.toString(p.nodePort()));
                        }
                    }
                    case SCTP -> {
                        for (String node : settings.nodeIPs()) {
                            sets.get(Ipset.NODE_PORT_SCTP.name()).add(entry(node, proto, p.nodePort()));
                            if (local) {
                                sets.get(Ipset.NODE_PORT_LOCAL_SCTP.name()).add(entry(node, proto, p.nodePort()));
                            }
                        }
                    }
                }
            }
            if (p.healthCheckNodePort() > 0) {
                sets.get(Ipset.HEALTH_CHECK_NODE_PORT.name()).add(Integer.toString(p.healthCheckNodePort()));
            }
        }
        sets.get(Ipset.IPVS_IPS.name()).addAll(addresses);
        return new Desired(new IpvsSaveParser.Table(List.copyOf(services.values()), List.copyOf(reals)),
                addresses, sets, List.copyOf(fallbacks));
    }

    @FunctionalInterface
    private interface Target {
        void add(String address, int port, List<Endpoint> endpoints);
    }

    /** An ipset member {@code ip,proto:port}, ipset's own spelling (lower-case protocol). */
    static String entry(String ip, Protocol proto, int port) {
        return ip + "," + proto.lower() + ":" + port;
    }

    /**
     * The iptables-restore input (--noflush): IPVS mode's chains, flushed and written whole (they are a fixed
     * handful; the per-Service data is in the ipsets), plus the jumps from built-in chains that are missing.
     */
    static String iptables(IpvsSettings s, Set<JumpRule> presentJumps) {
        String mark = s.masqueradeMark();
        StringBuilder out = new StringBuilder(4096);
        out.append("*filter\n");
        FILTER_CHAINS.forEach(c -> out.append(':').append(c).append(" - [0:0]\n"));
        jumps(out, "filter", presentJumps);
        if (s.dropInvalid()) {
            // Out-of-window packets would otherwise be un-NATed and reset connections (upstream k/k#74839).
            out.append("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n");
        }
        out.append("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark ")
                .append(mark).append('/').append(mark).append(" -j ACCEPT\n");
        out.append("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
        out.append("-A KUBE-NODE-PORT -m comment --comment \"Kubernetes health check node port\" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT\n");
        out.append("-A KUBE-PROXY-FIREWALL -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL\n");
        out.append("-A KUBE-SOURCE-RANGES-FIREWALL -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN\n");
        out.append("-A KUBE-SOURCE-RANGES-FIREWALL -m set --match-set KUBE-LOAD-BALANCER-SOURCE-IP dst,dst,src -j RETURN\n");
        out.append("-A KUBE-SOURCE-RANGES-FIREWALL -j DROP\n");
        // kube-ipvs0 makes every Service IP a local address, so without this every port the node listens on
        // (sshd, kubelet) would answer on every ClusterIP. Only the Services' own ports are let through.
        for (Ipset set : List.of(Ipset.LOAD_BALANCER, Ipset.CLUSTER_IP, Ipset.EXTERNAL_IP, Ipset.EXTERNAL_IP_LOCAL)) {
            out.append("-A KUBE-IPVS-FILTER -m set --match-set ").append(set.name()).append(" dst,dst -j RETURN\n");
        }
        out.append("-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN\n");
        out.append("-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT\n");
        out.append("COMMIT\n");

        out.append("*nat\n");
        NAT_CHAINS.forEach(c -> out.append(':').append(c).append(" - [0:0]\n"));
        jumps(out, "nat", presentJumps);
        out.append("-A KUBE-POSTROUTING -m comment --comment \"Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose\" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE\n");
        out.append("-A KUBE-POSTROUTING -m mark ! --mark ").append(mark).append('/').append(mark).append(" -j RETURN\n");
        out.append("-A KUBE-POSTROUTING -j MARK --xor-mark ").append(mark).append('\n');
        out.append("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n");
        out.append("-A KUBE-MARK-MASQ -j MARK --or-mark ").append(mark).append('\n');
        out.append("-A KUBE-SERVICES -m comment --comment \"Kubernetes service external ip + port for masquerade and filter purpose\" -m set --match-set KUBE-EXTERNAL-IP dst,dst -j KUBE-MARK-MASQ\n");
        out.append("-A KUBE-SERVICES -m set --match-set KUBE-EXTERNAL-IP dst,dst -j ACCEPT\n");
        out.append("-A KUBE-SERVICES -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j ACCEPT\n");
        out.append("-A KUBE-SERVICES -m comment --comment \"Kubernetes service lb portal\" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER\n");
        if (s.masqueradeAll()) {
            out.append("-A KUBE-SERVICES -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ\n");
        } else if (!s.clusterCIDR().isEmpty()) {
            out.append("-A KUBE-SERVICES ! -s ").append(s.clusterCIDR())
                    .append(" -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ\n");
        }
        out.append("-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT\n");
        out.append("-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT\n");
        out.append("-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT\n");
        out.append("-A KUBE-LOAD-BALANCER -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN\n");
        out.append("-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ\n");
        // Local sets first: a NodePort with traffic policy Local keeps the client's address.
        out.append("-A KUBE-NODE-PORT -p tcp -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN\n");
        out.append("-A KUBE-NODE-PORT -p tcp -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ\n");
        out.append("-A KUBE-NODE-PORT -p udp -m set --match-set KUBE-NODE-PORT-LOCAL-UDP dst -j RETURN\n");
        out.append("-A KUBE-NODE-PORT -p udp -m set --match-set KUBE-NODE-PORT-UDP dst -j KUBE-MARK-MASQ\n");
        out.append("-A KUBE-NODE-PORT -p sctp -m set --match-set KUBE-NODE-PORT-LOCAL-SCTP-HASH dst,dst -j RETURN\n");
        out.append("-A KUBE-NODE-PORT -p sctp -m set --match-set KUBE-NODE-PORT-SCTP-HASH dst,dst -j KUBE-MARK-MASQ\n");
        out.append("COMMIT\n");
        return out.toString();
    }

    private static void jumps(StringBuilder out, String table, Set<JumpRule> present) {
        for (JumpRule jump : JUMPS) {
            if (jump.table().equals(table) && !present.contains(jump)) {
                out.append("-I ").append(jump.from()).append(' ').append(jump.body()).append('\n');
            }
        }
    }

    /** The iptables chains this mode writes, as {@code table/chain}. */
    static Set<String> chains() {
        Set<String> all = new TreeSet<>();
        NAT_CHAINS.forEach(c -> all.add("nat/" + c));
        FILTER_CHAINS.forEach(c -> all.add("filter/" + c));
        return all;
    }
}
