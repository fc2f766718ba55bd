package io.kubeferry.ipvs;

import io.kubeferry.iptables.JumpRule;
import io.kubeferry.iptables.RuleWriter;
import io.kubeferry.iptables.SharedRules;
import io.kubeferry.proxy.config.NodePortAddresses;
import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.scheduler.SchedulerChoice;

import java.util.ArrayList;
import java.util.HashMap;
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

    static final String KUBE_SERVICES = SharedRules.KUBE_SERVICES;
    static final String KUBE_POSTROUTING = SharedRules.KUBE_POSTROUTING;
    static final String KUBE_MARK_MASQ = SharedRules.KUBE_MARK_MASQ;
    static final String KUBE_NODE_PORT = "KUBE-NODE-PORT";
    static final String KUBE_LOAD_BALANCER = "KUBE-LOAD-BALANCER";
    static final String KUBE_FORWARD = SharedRules.KUBE_FORWARD;
    static final String KUBE_PROXY_FIREWALL = SharedRules.KUBE_PROXY_FIREWALL;
    static final String KUBE_SOURCE_RANGES_FIREWALL = "KUBE-SOURCE-RANGES-FIREWALL";
    static final String KUBE_IPVS_FILTER = "KUBE-IPVS-FILTER";
    /** Upstream's filter OUTPUT chain that holds the node itself to loadBalancerSourceRanges (k/k#119656). */
    static final String KUBE_IPVS_OUT_FILTER = "KUBE-IPVS-OUT-FILTER";

    static final List<String> NAT_CHAINS = List.of(KUBE_SERVICES, KUBE_POSTROUTING, KUBE_NODE_PORT, KUBE_LOAD_BALANCER, KUBE_MARK_MASQ);
    static final List<String> FILTER_CHAINS = List.of(KUBE_FORWARD, KUBE_NODE_PORT, KUBE_PROXY_FIREWALL,
            KUBE_SOURCE_RANGES_FIREWALL, KUBE_IPVS_FILTER, KUBE_IPVS_OUT_FILTER);

    /** IPVS mode's jumps; comments and matches as upstream's, so the ones both modes use are recognised either way. */
    static final List<JumpRule> JUMPS = List.of(
            new JumpRule("filter", "FORWARD", KUBE_FORWARD, "kubernetes forwarding rules", ""),
            new JumpRule("filter", "INPUT", KUBE_NODE_PORT, "kubernetes health check rules", ""),
            new JumpRule("filter", "INPUT", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "FORWARD", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "INPUT", KUBE_IPVS_FILTER, "kubernetes ipvs access filter", ""),
            new JumpRule("filter", "OUTPUT", KUBE_IPVS_OUT_FILTER, "kubernetes ipvs access filter", ""),
            new JumpRule("nat", "OUTPUT", KUBE_SERVICES, "kubernetes service portals", ""),
            new JumpRule("nat", "PREROUTING", KUBE_SERVICES, "kubernetes service portals", ""),
            new JumpRule("nat", "POSTROUTING", KUBE_POSTROUTING, "kubernetes postrouting rules", ""));

    /** A Service asked for a scheduler this node cannot give. */
    record Fallback(ServicePortName service, String message) {
    }

    /**
     * A load balancer IP and port the node itself must not reach: the Service has loadBalancerSourceRanges and
     * none contains the node's IP (upstream's lbNoNodeAccessIPPortProtocolEntries).
     *
     * @param protocol lower case, as {@code -m ipvs --vproto} takes it
     */
    record NoNodeAccess(String ip, String protocol, int port) implements Comparable<NoNodeAccess> {

        private static final java.util.Comparator<NoNodeAccess> ORDER = java.util.Comparator.comparing(NoNodeAccess::ip)
                .thenComparing(NoNodeAccess::protocol).thenComparingInt(NoNodeAccess::port);

        @Override
        public int compareTo(NoNodeAccess other) {
            return ORDER.compare(this, other);
        }

        /**
         * The node's own packets to an address on kube-ipvs0 leave with that address as source (the local route's
         * preferred source), so {@code -s LBIP} with the virtual server's match picks out exactly the node's
         * connections to it; others' packets keep their own source and go through KUBE-SOURCE-RANGES-FIREWALL.
         */
        List<String> rule() {
            return List.of("-A", KUBE_IPVS_OUT_FILTER, "-s", ip, "-m", "ipvs", "--vaddr", ip, "--vproto", protocol,
                    "--vport", Integer.toString(port), "-j", "DROP");
        }
    }

    /**
     * Everything one sync wants.
     *
     * @param table     virtual and real servers
     * @param addresses what kube-ipvs0 holds: every ClusterIP, external IP and load-balancer IP
     * @param ipsets    members by set name (every set of {@link Ipset#ALL} is present, maybe empty)
     * @param fallbacks Services whose scheduler annotation could not be honoured
     * @param noNodeAccess what KUBE-IPVS-OUT-FILTER drops
     * @param schedulers   the scheduler in force per Service port, and why
     * @param cutAtOnce    {@link RealServer#key()} of the real servers of removed endpoints whose TCP flows are cut
     *                     ({@link io.kubeferry.proxy.conntrack.TcpFlushPolicy}): deleted at once, not drained
     */
    record Desired(IpvsSaveParser.Table table, SortedSet<String> addresses, Map<String, SortedSet<String>> ipsets,
            List<Fallback> fallbacks, SortedSet<NoNodeAccess> noNodeAccess, Map<ServicePortName, SchedulerInForce> schedulers,
            Set<String> cutAtOnce) {

        Desired {
            schedulers = Map.copyOf(schedulers);
            cutAtOnce = Set.copyOf(cutAtOnce);
        }
    }

    private IpvsRenderer() {
    }

    static Desired render(ProxyState state, IpvsSettings settings, SchedulerCatalog catalog) {
        return render(state, settings, catalog, Map.of());
    }

    /**
     * @param cut per Service port, its removed endpoints whose real servers go at once on each of its virtual
     *            servers (see {@link GracefulTermination#cutAtOnce})
     */
    static Desired render(ProxyState state, IpvsSettings settings, SchedulerCatalog catalog, Map<ServicePortName, List<Endpoint>> cut) {
        Map<String, VirtualServer> services = new LinkedHashMap<>();
        List<RealServer> reals = new ArrayList<>();
        SortedSet<String> addresses = new TreeSet<>();
        Map<String, SortedSet<String>> sets = new TreeMap<>();
        Ipset.ALL.forEach(s -> sets.put(s.name(), new TreeSet<>()));
        List<Fallback> fallbacks = new ArrayList<>();
        Map<ServicePortName, SchedulerInForce> schedulers = new HashMap<>();
        SortedSet<NoNodeAccess> noNodeAccess = new TreeSet<>();
        Set<String> cutAtOnce = new java.util.HashSet<>();
        String nodeIP = nodeIP(state, settings);

        for (ResolvedService svc : state.services().values()) {
            ServicePort p = svc.port();
            Protocol proto = p.protocol();
            SchedulerChoice choice = catalog.choose(p);
            choice.fallbackReason().ifPresent(reason -> fallbacks.add(new Fallback(p.name(), reason)));
            schedulers.put(p.name(), IpvsSchedulers.shown(catalog.inForce(p, choice)));
            Set<String> flags = IpvsSchedulers.kernelFlags(choice.scheduler().name(), choice.scheduler().flags());
            String scheduler = IpvsSchedulers.kernelName(choice.scheduler().name());
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
                    for (Endpoint e : cut.getOrDefault(p.name(), List.of())) {
                        cutAtOnce.add(new RealServer(vs.key(), e.ip(), e.port(), 0).key());
                    }
                }
            };

            t.add(p.clusterIP(), p.port(), internal);
            addresses.add(p.clusterIP());
            sets.get(Ipset.CLUSTER_IP.name()).add(entry(p.clusterIP(), proto, p.port()));
            // Only endpoints on this node can reach themselves through it (hairpin).
            for (Endpoint e : svc.reachableEndpoints()) {
                if (!e.local())
                    continue;
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
                    boolean allowFromNode = false;
                    for (String range : p.loadBalancerSourceRanges()) {
                        sets.get(Ipset.LOAD_BALANCER_SOURCE_CIDR.name()).add(e + "," + range);
                        allowFromNode |= !nodeIP.isEmpty() && Cidr.parse(range).contains(nodeIP);
                    }
                    // As upstream (k/k#119656): the node's own packets to the load balancer IP carry that IP as
                    // source, so a range that lets the node in lets in LBIP itself; otherwise KUBE-IPVS-OUT-FILTER
                    // drops the node's packets to it, which take no INPUT hook and so no source-range firewall.
                    if (allowFromNode) {
                        sets.get(Ipset.LOAD_BALANCER_SOURCE_IP.name()).add(e + "," + ip);
                    } else {
                        noNodeAccess.add(new NoNodeAccess(ip, proto.lower(), p.port()));
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
                            sets.get((tcp ? Ipset.NODE_PORT_LOCAL_TCP : Ipset.NODE_PORT_LOCAL_UDP).name())
                                    .add(Integer.toString(p.nodePort()));
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
                addresses, sets, List.copyOf(fallbacks), noNodeAccess, schedulers, cutAtOnce);
    }

    /**
     * The address loadBalancerSourceRanges are checked against for the node's own access, upstream's nodeIP: the
     * Node object's first address, else (no Node object yet, or no address in it) the kernel's; "" when unknown,
     * which no range contains.
     */
    private static String nodeIP(ProxyState state, IpvsSettings settings) {
        String fromNode = NodePortAddresses.primary(state.node().addresses());
        return fromNode.isEmpty() ? settings.nodeIP() : fromNode;
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
    static String iptables(IpvsSettings s, Set<JumpRule> presentJumps, SortedSet<NoNodeAccess> noNodeAccess) {
        RuleWriter out = new RuleWriter(4096);
        out.line("*filter");
        FILTER_CHAINS.forEach(out::chain);
        SharedRules.insertJumps(out, "filter", JUMPS, presentJumps);
        SharedRules.forward(out, s.masqueradeMark(), s.dropInvalid(), "");
        out.rule("-A", KUBE_NODE_PORT, RuleWriter.comment("Kubernetes health check node port"),
                matchSet(s, Ipset.HEALTH_CHECK_NODE_PORT, "dst"),
                "-j", "ACCEPT");
        out.rule("-A", KUBE_PROXY_FIREWALL, matchSet(s, Ipset.LOAD_BALANCER_FW, "dst,dst"), "-j", KUBE_SOURCE_RANGES_FIREWALL);
        out.rule("-A", KUBE_SOURCE_RANGES_FIREWALL, matchSet(s, Ipset.LOAD_BALANCER_SOURCE_CIDR, "dst,dst,src"), "-j", "RETURN");
        out.rule("-A", KUBE_SOURCE_RANGES_FIREWALL, matchSet(s, Ipset.LOAD_BALANCER_SOURCE_IP, "dst,dst,src"), "-j", "RETURN");
        out.rule("-A", KUBE_SOURCE_RANGES_FIREWALL, "-j", "DROP");
        // kube-ipvs0 makes every Service IP a local address, so without this every port the node listens on
        // (sshd, kubelet) would answer on every ClusterIP. Only the Services' own ports are let through.
        for (Ipset set : List.of(Ipset.LOAD_BALANCER, Ipset.CLUSTER_IP, Ipset.EXTERNAL_IP, Ipset.EXTERNAL_IP_LOCAL)) {
            out.rule("-A", KUBE_IPVS_FILTER, matchSet(s, set, "dst,dst"), "-j", "RETURN");
        }
        out.rule("-A", KUBE_IPVS_FILTER, matchSet(s, Ipset.HEALTH_CHECK_NODE_PORT, "dst"), "-j", "RETURN");
        out.rule("-A", KUBE_IPVS_FILTER, "-m", "conntrack", "--ctstate", "NEW", matchSet(s, Ipset.IPVS_IPS, "dst"), "-j", "REJECT");
        noNodeAccess.forEach(n -> out.rule(n.rule()));
        out.line("COMMIT");

        out.line("*nat");
        NAT_CHAINS.forEach(out::chain);
        SharedRules.insertJumps(out, "nat", JUMPS, presentJumps);
        out.rule("-A", KUBE_POSTROUTING, RuleWriter.comment("Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
                matchSet(s, Ipset.LOOP_BACK, "dst,dst,src"), "-j", "MASQUERADE");
        SharedRules.masquerade(out, s.masqueradeMark());
        out.rule("-A", KUBE_SERVICES, RuleWriter.comment("Kubernetes service external ip + port for masquerade and filter purpose"),
                matchSet(s, Ipset.EXTERNAL_IP, "dst,dst"), "-j", KUBE_MARK_MASQ);
        out.rule("-A", KUBE_SERVICES, matchSet(s, Ipset.EXTERNAL_IP, "dst,dst"), "-j", "ACCEPT");
        out.rule("-A", KUBE_SERVICES, matchSet(s, Ipset.EXTERNAL_IP_LOCAL, "dst,dst"), "-j", "ACCEPT");
        out.rule("-A", KUBE_SERVICES, RuleWriter.comment("Kubernetes service lb portal"), matchSet(s, Ipset.LOAD_BALANCER, "dst,dst"),
                "-j", KUBE_LOAD_BALANCER);
        List<String> clusterIPMasquerade = RuleWriter.comment("Kubernetes service cluster ip + port for masquerade purpose");
        if (s.masqueradeAll()) {
            out.rule("-A", KUBE_SERVICES, clusterIPMasquerade, matchSet(s, Ipset.CLUSTER_IP, "dst,dst"), "-j", KUBE_MARK_MASQ);
        } else if (!s.clusterCIDR().isEmpty()) {
            out.rule("-A", KUBE_SERVICES, "!", "-s", s.clusterCIDR(), clusterIPMasquerade, matchSet(s, Ipset.CLUSTER_IP, "dst,dst"),
                    "-j", KUBE_MARK_MASQ);
        }
        out.rule("-A", KUBE_SERVICES, "-m", "addrtype", "--dst-type", "LOCAL", "-j", KUBE_NODE_PORT);
        out.rule("-A", KUBE_SERVICES, matchSet(s, Ipset.CLUSTER_IP, "dst,dst"), "-j", "ACCEPT");
        out.rule("-A", KUBE_SERVICES, matchSet(s, Ipset.LOAD_BALANCER, "dst,dst"), "-j", "ACCEPT");
        out.rule("-A", KUBE_LOAD_BALANCER, matchSet(s, Ipset.LOAD_BALANCER_LOCAL, "dst,dst"), "-j", "RETURN");
        out.rule("-A", KUBE_LOAD_BALANCER, "-j", KUBE_MARK_MASQ);
        // Local sets first: a NodePort with traffic policy Local keeps the client's address.
        nodePortRules(out, s, "tcp", Ipset.NODE_PORT_LOCAL_TCP, Ipset.NODE_PORT_TCP, "dst");
        nodePortRules(out, s, "udp", Ipset.NODE_PORT_LOCAL_UDP, Ipset.NODE_PORT_UDP, "dst");
        nodePortRules(out, s, "sctp", Ipset.NODE_PORT_LOCAL_SCTP, Ipset.NODE_PORT_SCTP, "dst,dst");
        out.line("COMMIT");
        return out.text();
    }

    /**
     * What a partial sync restores (--noflush) when the load balancers the node may not reach changed: only
     * KUBE-IPVS-OUT-FILTER, flushed and written whole (it is declared, so restore flushes just that chain; the jump
     * to it from OUTPUT is the full sync's). The other chains depend on settings alone, which only a full sync
     * re-reads.
     */
    static String outFilter(SortedSet<NoNodeAccess> noNodeAccess) {
        RuleWriter out = new RuleWriter(256);
        out.line("*filter");
        out.chain(KUBE_IPVS_OUT_FILTER);
        noNodeAccess.forEach(n -> out.rule(n.rule()));
        out.line("COMMIT");
        return out.text();
    }

    private static void nodePortRules(RuleWriter out, IpvsSettings s, String proto, Ipset local, Ipset all, String flags) {
        out.rule("-A", KUBE_NODE_PORT, "-p", proto, matchSet(s, local, flags), "-j", "RETURN");
        out.rule("-A", KUBE_NODE_PORT, "-p", proto, matchSet(s, all, flags), "-j", KUBE_MARK_MASQ);
    }

    /** {@code -m set --match-set} on the settings' family's set (IPv6's are KUBE-6-*). */
    private static List<String> matchSet(IpvsSettings s, Ipset set, String flags) {
        return List.of("-m", "set", "--match-set", s.set(set), flags);
    }

    /** The iptables chains this mode writes, as {@code table/chain}. */
    static Set<String> chains() {
        Set<String> all = new TreeSet<>();
        NAT_CHAINS.forEach(c -> all.add("nat/" + c));
        FILTER_CHAINS.forEach(c -> all.add("filter/" + c));
        return all;
    }
}
