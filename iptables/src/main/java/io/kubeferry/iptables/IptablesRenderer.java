package io.kubeferry.iptables;

import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.Scheduler;
import io.kubeferry.proxy.scheduler.SchedulerAlgorithms;
import io.kubeferry.proxy.scheduler.SchedulerChoice;
import io.kubeferry.proxy.scheduler.SlotTable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Renders a {@link ProxyState} into iptables-restore input with upstream kube-proxy's layout: the same
 * chains, rule order and comments, so {@code iptables-save} on a kube-ferry node reads like one run by
 * kube-proxy. Pure: the same inputs give the same text, and nothing here touches the machine.
 */
final class IptablesRenderer {

    static final String CANARY = "KUBE-PROXY-CANARY";
    static final String KUBE_SERVICES = SharedRules.KUBE_SERVICES;
    static final String KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES";
    static final String KUBE_NODEPORTS = "KUBE-NODEPORTS";
    static final String KUBE_FORWARD = SharedRules.KUBE_FORWARD;
    static final String KUBE_PROXY_FIREWALL = SharedRules.KUBE_PROXY_FIREWALL;
    static final String KUBE_POSTROUTING = SharedRules.KUBE_POSTROUTING;
    static final String KUBE_MARK_MASQ = SharedRules.KUBE_MARK_MASQ;
    /** kubelet's chain, duplicated by upstream kube-proxy when localhost NodePorts are on; never removed by cleanup. */
    static final String KUBE_FIREWALL = "KUBE-FIREWALL";

    static final List<String> FILTER_CHAINS = List.of(KUBE_NODEPORTS, KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD,
            KUBE_PROXY_FIREWALL);
    static final List<String> NAT_CHAINS = List.of(KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ);

    /** Above this many endpoints, per-endpoint comments are dropped (upstream's large-cluster mode). */
    static final int LARGE_CLUSTER_ENDPOINTS = 1000;

    /** 63 (namespace) + 1 + 63 (name) + 1 + 63 (port name): see {@link #commentText}. */
    static final int COMMENT_NAME_MAX = 191;

    private static final String NODEPORTS_COMMENT = "kubernetes service nodeports; NOTE: this must be the last rule in this chain";

    /**
     * Hash dispatch carries the slot in these low bits of the packet mark (HMARK sets the whole mark): below the
     * masquerade bit (0x4000 by default) and kubelet's drop bit (0x8000). See {@link Port#hashDispatch}.
     */
    static final long SLOT_MASK = 0x3fff;

    private final ChainNames names;
    private final IptablesScheduling scheduling;
    private final Probabilities probabilities = new Probabilities();

    IptablesRenderer(ChainNames names) {
        this(names, IptablesScheduling.defaults());
    }

    IptablesRenderer(ChainNames names, IptablesScheduling scheduling) {
        this.names = names;
        this.scheduling = scheduling;
    }

    /** Every chain written whole: the per-Service-port chains {@code kernel} has and the state no longer wants are deleted. */
    RestoreProgram full(ProxyState state, IptablesSettings settings, KernelState kernel) {
        boolean largeCluster = largeCluster(state);
        RuleWriter natChains = new RuleWriter(1024 + state.services().size() * 96);
        RuleWriter natRules = new RuleWriter(1024 + state.services().size() * 1024);
        Tally tally = new Tally(new HashMap<>(), new HashSet<>(), 0, 0);
        for (ResolvedService svc : state.services().values()) {
            tally.add(svc.name(), new Port(svc, settings, largeCluster, natChains, natRules).write());
        }
        FixedRules fixed = FixedRules.of(settings);
        TreeSet<String> stale = stale(kernel.serviceChains(), tally.active);
        RuleWriter out = new RuleWriter(natChains.length() + natRules.length() + 4096 + state.services().size() * 400);
        out.line("*mangle").chain(CANARY).line("COMMIT");
        out.line("*filter");
        FILTER_CHAINS.forEach(out::chain);
        out.chain(CANARY);
        declareKubeletFirewall(out, settings);
        SharedRules.insertJumps(out, "filter", JumpRule.ALL, kernel.presentJumps());
        out.append(fixed.localnetGuard());
        // In the state's (sorted) order: the rules map is a HashMap, whose order could differ between runs.
        for (ResolvedService svc : state.services().values()) {
            tally.rules.get(svc.name()).filterTop().forEach(out::line);
        }
        out.append(fixed.filter()).line("COMMIT");
        out.line("*nat");
        NAT_CHAINS.forEach(out::chain);
        out.chain(CANARY).append(natChains);
        stale.forEach(out::chain);
        SharedRules.insertJumps(out, "nat", JumpRule.ALL, kernel.presentJumps());
        // Service rules in a stable order (the state's), then the fixed ones: the NodePort catch-all must
        // be the last rule of KUBE-SERVICES.
        for (ResolvedService svc : state.services().values()) {
            tally.rules.get(svc.name()).natTop().forEach(out::line);
        }
        out.append(natRules).append(fixed.nat());
        return finish(out, stale, tally, fixed, true, largeCluster);
    }

    /**
     * Only the changed Service ports' chains, from {@code kernel.applied()}: a partial sync of one Service in a
     * cluster of 10,000 must not walk the other 9,999. Top-level chains are edited in place (delete what went,
     * insert what came), so the cost follows the change, not the cluster. With nothing applied yet, or when the
     * cluster crosses the large-cluster threshold (comments depend on it), this is a {@link #full} render.
     */
    RestoreProgram partial(ProxyState state, IptablesSettings settings, Set<ServicePortName> changed, KernelState kernel) {
        RestoreProgram previous = kernel.applied();
        boolean largeCluster = largeCluster(state);
        if (previous == null || previous.largeCluster() != largeCluster) {
            return full(state, settings, kernel);
        }
        RuleWriter natChains = new RuleWriter(4096);
        RuleWriter natRules = new RuleWriter(16384);
        Tally tally = new Tally(new HashMap<>(previous.services()), new HashSet<>(previous.serviceChains()),
                previous.filterRules() - previous.fixedFilterRules(), previous.natRules() - previous.fixedNatRules());
        // Stale: what the changed ports had before and no longer have.
        Set<String> staleCandidates = new HashSet<>();
        for (ServicePortName name : changed) {
            ServiceRules old = tally.remove(name);
            if (old != null) {
                staleCandidates.addAll(old.chains());
            }
            ResolvedService svc = state.services().get(name);
            if (svc != null) {
                tally.add(name, new Port(svc, settings, largeCluster, natChains, natRules).write());
            }
        }
        FixedRules fixed = FixedRules.of(settings);
        TreeSet<String> stale = stale(staleCandidates, tally.active);
        RuleWriter out = new RuleWriter(natChains.length() + natRules.length() + 8192);
        // Inserting at the top keeps the NodePort catch-all last.
        Set<ServicePortName> touched = new TreeSet<>(changed);
        out.line("*filter");
        for (ServicePortName name : touched) {
            edit(out, filterTop(previous.services().get(name)), filterTop(tally.rules.get(name)));
        }
        out.line("COMMIT").line("*nat").append(natChains);
        stale.forEach(out::chain);
        for (ServicePortName name : touched) {
            edit(out, natTop(previous.services().get(name)), natTop(tally.rules.get(name)));
        }
        out.append(natRules);
        return finish(out, stale, tally, fixed, false, largeCluster);
    }

    private static boolean largeCluster(ProxyState state) {
        int totalEndpoints = 0;
        for (ResolvedService svc : state.services().values()) {
            totalEndpoints += svc.allEndpoints().size();
        }
        return totalEndpoints > LARGE_CLUSTER_ENDPOINTS;
    }

    /** The candidates that are per-Service-port chains no longer wanted, sorted. */
    private static TreeSet<String> stale(Set<String> candidates, Set<String> active) {
        TreeSet<String> stale = new TreeSet<>();
        for (String chain : candidates) {
            if (ChainNames.isServiceChain(chain) && !active.contains(chain)) {
                stale.add(chain);
            }
        }
        return stale;
    }

    /** Deletes the stale chains and ends the nat table. A chain can only be deleted once nothing jumps to it: the -X lines come last. */
    private static RestoreProgram finish(RuleWriter out, Set<String> stale, Tally tally, FixedRules fixed, boolean full,
            boolean largeCluster) {
        stale.forEach(chain -> out.line("-X", chain));
        out.line("COMMIT");
        int fixedFilter = fixed.localnetGuard().rules() + fixed.filter().rules();
        return new RestoreProgram(out.text(), tally.filterRules + fixedFilter, tally.natRules + fixed.nat().rules(), tally.active, full,
                largeCluster, tally.rules, fixedFilter, fixed.nat().rules());
    }

    /** The Service ports' rules and chains of one program, with their rule counts (fixed rules apart). */
    private static final class Tally {

        final Map<ServicePortName, ServiceRules> rules;
        final Set<String> active;
        int filterRules;
        int natRules;

        Tally(Map<ServicePortName, ServiceRules> rules, Set<String> active, int filterRules, int natRules) {
            this.rules = rules;
            this.active = active;
            this.filterRules = filterRules;
            this.natRules = natRules;
        }

        void add(ServicePortName name, ServiceRules r) {
            rules.put(name, r);
            active.addAll(r.chains());
            filterRules += r.filterTop().size();
            natRules += r.natTop().size() + r.chainRules();
        }

        ServiceRules remove(ServicePortName name) {
            ServiceRules old = rules.remove(name);
            if (old != null) {
                active.removeAll(old.chains());
                filterRules -= old.filterTop().size();
                natRules -= old.natTop().size() + old.chainRules();
            }
            return old;
        }
    }

    /** The rules that belong to no Service port, written by every render (a partial one only counts them). */
    private record FixedRules(RuleWriter localnetGuard, RuleWriter filter, RuleWriter nat) {

        static FixedRules of(IptablesSettings settings) {
            FixedRules fixed = new FixedRules(new RuleWriter(256), new RuleWriter(512), new RuleWriter(1024));
            writeLocalnetGuard(fixed.localnetGuard, settings);
            writeFixedFilterRules(fixed.filter, settings);
            writeFixedNatRules(fixed.nat, settings);
            return fixed;
        }
    }

    private static List<String> filterTop(ServiceRules rules) {
        return rules == null ? List.of() : rules.filterTop();
    }

    private static List<String> natTop(ServiceRules rules) {
        return rules == null ? List.of() : rules.natTop();
    }

    /** Top-level edits for one Service port: -D for rules it no longer has, -I for rules it newly has. */
    private static void edit(RuleWriter out, List<String> old, List<String> now) {
        Set<String> keep = new HashSet<>(now);
        for (String line : old) {
            if (!keep.contains(line)) {
                out.line("-D" + line.substring(2));
            }
        }
        Set<String> had = new HashSet<>(old);
        // Each -I goes to the top, so the last line goes first: the chain then reads in render order (the
        // counting localhost NodePort rule must stay ahead of the catch-all one for the same port).
        for (int i = now.size() - 1; i >= 0; i--) {
            String line = now.get(i);
            if (!had.contains(line)) {
                out.line("-I" + line.substring(2));
            }
        }
    }

    /**
     * kubelet's KUBE-FIREWALL chain. Upstream jumps to it from INPUT and OUTPUT whatever the setting, so it must
     * exist; with localhost NodePorts on it is ours to rewrite (flushed here, refilled by
     * {@link #writeLocalnetGuard}); with them off a chain already there (kubelet's) is left untouched, and a
     * missing one is created empty.
     */
    private static void declareKubeletFirewall(RuleWriter out, IptablesSettings settings) {
        if (settings.localhostNodePorts() || !settings.kubeletFirewall()) {
            out.chain(KUBE_FIREWALL);
        }
    }

    /**
     * route_localnet lets 127.0.0.1:NodePort be DNATed, but also lets any host on the link send to 127/8
     * (k/k#90259): upstream's (and kubelet's) rule drops such packets unless conntrack knows them.
     */
    private static void writeLocalnetGuard(RuleWriter filter, IptablesSettings settings) {
        // IPv4 only (settings never have localhost NodePorts for IPv6): upstream writes no such rule for IPv6.
        if (settings.localhostNodePorts()) {
            filter.rule("-A", KUBE_FIREWALL, RuleWriter.comment("block incoming localnet connections"), "-d", "127.0.0.0/8",
                    "!", "-s", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP");
        }
    }

    private static void writeFixedFilterRules(RuleWriter filter, IptablesSettings settings) {
        String counter = settings.counts(NfacctCounters.CT_STATE_INVALID_DROPPED) ? NfacctCounters.CT_STATE_INVALID_DROPPED : "";
        SharedRules.forward(filter, settings.masqueradeMark(), settings.dropInvalid(), counter);
    }

    private static void writeFixedNatRules(RuleWriter nat, IptablesSettings settings) {
        SharedRules.masquerade(nat, settings.masqueradeMark());
        if (settings.nodePortIPs() == null) {
            // Upstream: "! -d ::1/128" always for IPv6 (localhost NodePorts never work there), "! -d 127.0.0.0/8" for
            // IPv4 unless route_localnet lets them.
            List<String> notLocalhost = settings.localhostNodePorts() ? List.of() : List.of("!", "-d", settings.family().loopback());
            nat.rule("-A", KUBE_SERVICES, RuleWriter.comment(NODEPORTS_COMMENT), "-m", "addrtype", "--dst-type", "LOCAL", notLocalhost,
                    "-j", KUBE_NODEPORTS);
        } else {
            for (String ip : settings.nodePortIPs()) {
                if (settings.loopback(ip) && !settings.localhostNodePorts()) {
                    continue;
                }
                nat.rule("-A", KUBE_SERVICES, RuleWriter.comment(NODEPORTS_COMMENT), "-d", ip, "-j", KUBE_NODEPORTS);
            }
        }
    }

    /**
     * Writes one Service port: its rules in the top-level chains, then one writer per chain kind of its own
     * (SVC and SVL, EXT, FW, SEP). The fields are upstream's syncProxyRules decisions for the port, made once.
     */
    private final class Port {

        private final ResolvedService svc;
        private final ServicePort port;
        private final IptablesSettings settings;
        private final boolean largeCluster;
        private final RuleWriter natChains;
        private final RuleWriter natRules;
        private final RuleWriter filter = new RuleWriter(256);
        private final RuleWriter topNat = new RuleWriter(512);
        private final Set<String> active = new HashSet<>();

        private final String svcName;
        private final List<String> protoMatch;
        private final String dport;
        private final ChainNames.PortChains chains;
        private final boolean hasEndpoints;
        /** Where ClusterIP traffic goes (SVC, or SVL with internalTrafficPolicy Local), and whether anywhere. */
        private final String internalChain;
        private final boolean hasInternal;
        /** Where traffic from outside goes once through EXT (SVC, or SVL with externalTrafficPolicy Local), and whether anywhere. */
        private final String externalPolicyChain;
        private final boolean hasExternal;
        private final boolean usesFirewall;
        /** REJECT (no endpoints) or DROP (no local ones) for traffic with nowhere to go, and its comment. */
        private final String noEndpointsTarget;
        private final List<String> noEndpointsComment;
        /** The algorithm asked for (or the default), and what the SVC/SVL chains actually did with it. */
        private SchedulerChoice choice;
        /** Whether a dispatch used the mark: the SEP chains then clear the slot bits again. */
        private boolean markedSlots;

        Port(ResolvedService svc, IptablesSettings settings, boolean largeCluster, RuleWriter natChains, RuleWriter natRules) {
            this.svc = svc;
            this.port = svc.port();
            this.settings = settings;
            this.largeCluster = largeCluster;
            this.natChains = natChains;
            this.natRules = natRules;
            ServicePortName name = port.name();
            svcName = commentText(name.toString());
            String proto = name.protocol().lower();
            protoMatch = List.of("-m", proto, "-p", proto);
            dport = Integer.toString(port.port());
            chains = names.of(name);
            hasEndpoints = svc.hasAnyEndpoints();
            boolean hasLocal = !svc.localEndpoints().isEmpty();
            internalChain = port.internalPolicyLocal() ? chains.local() : chains.cluster();
            hasInternal = hasEndpoints && (!port.internalPolicyLocal() || hasLocal);
            externalPolicyChain = port.usesExternalLocal() ? chains.local() : chains.cluster();
            hasExternal = hasEndpoints && (!port.usesExternalLocal() || hasLocal);
            usesFirewall = hasEndpoints && !port.loadBalancerIPs().isEmpty() && !port.loadBalancerSourceRanges().isEmpty();
            noEndpointsTarget = hasEndpoints ? "DROP" : "REJECT";
            noEndpointsComment = RuleWriter.comment(svcName + (hasEndpoints ? " has no local endpoints" : " has no endpoints"));
            choice = scheduling.choose(port);
        }

        ServiceRules write() {
            int rulesBefore = natRules.rules();
            clusterIP();
            externalIPs();
            loadBalancerIPs();
            nodePort();
            healthCheckNodePort();
            // From here on: the per-Service-port chains, skipped (but counted) on a partial sync when unchanged. In
            // upstream's text order: the internal chain's masquerade rule comes before EXT and FW, its jumps after.
            internalMasquerade();
            externalChain();
            firewallChain();
            if (!svc.clusterEndpoints().isEmpty() && port.usesClusterEndpoints()) {
                serviceChain(chains.cluster(), svc.clusterEndpoints());
            }
            if (!svc.localEndpoints().isEmpty() && port.usesLocalEndpoints()) {
                serviceChain(chains.local(), svc.localEndpoints());
            }
            svc.reachableEndpoints().forEach(this::endpointChain);
            return new ServiceRules(filter.lines(), topNat.lines(), natRules.rules() - rulesBefore, active,
                    scheduling.catalog().inForce(port, choice));
        }

        private List<String> destination(String ip) {
            return List.of("-d", ip, "--dport", dport);
        }

        private void clusterIP() {
            if (hasInternal) {
                topNat.rule("-A", KUBE_SERVICES, RuleWriter.comment(svcName + " cluster IP"), protoMatch, destination(port.clusterIP()),
                        "-j", internalChain);
            } else {
                filter.rule("-A", KUBE_SERVICES, noEndpointsComment, protoMatch, destination(port.clusterIP()), "-j", noEndpointsTarget);
            }
        }

        private void externalIPs() {
            for (String ip : port.externalIPs()) {
                if (hasEndpoints) {
                    topNat.rule("-A", KUBE_SERVICES, RuleWriter.comment(svcName + " external IP"), protoMatch, destination(ip),
                            "-j", chains.external());
                }
                if (!hasExternal) {
                    filter.rule("-A", KUBE_EXTERNAL_SERVICES, noEndpointsComment, protoMatch, destination(ip), "-j", noEndpointsTarget);
                }
            }
        }

        private void loadBalancerIPs() {
            for (String ip : port.loadBalancerIPs()) {
                if (hasEndpoints) {
                    topNat.rule("-A", KUBE_SERVICES, RuleWriter.comment(svcName + " loadbalancer IP"), protoMatch, destination(ip),
                            "-j", usesFirewall ? chains.firewall() : chains.external());
                }
                if (usesFirewall) {
                    filter.rule("-A", KUBE_PROXY_FIREWALL, RuleWriter.comment(svcName + " traffic not accepted by " + chains.firewall()),
                            protoMatch, destination(ip), "-j", "DROP");
                }
            }
            if (!hasExternal) {
                for (String ip : port.loadBalancerIPs()) {
                    filter.rule("-A", KUBE_EXTERNAL_SERVICES, noEndpointsComment, protoMatch, destination(ip), "-j", noEndpointsTarget);
                }
            }
        }

        private void nodePort() {
            if (port.nodePort() <= 0) {
                return;
            }
            String nodePort = Integer.toString(port.nodePort());
            // Unquoted, as upstream writes it (commentText leaves no space in the name).
            List<String> comment = List.of("-m", "comment", "--comment", svcName);
            if (hasEndpoints) {
                if (settings.localhostNodePorts() && settings.counts(NfacctCounters.LOCALHOST_NODEPORTS_ACCEPTED)) {
                    // The same jump, first, for 127.0.0.0/8 only: it counts localhost NodePort connections.
                    topNat.rule("-A", KUBE_NODEPORTS, comment, protoMatch, "-d", "127.0.0.0/8", "--dport", nodePort,
                            "-m", "nfacct", "--nfacct-name", NfacctCounters.LOCALHOST_NODEPORTS_ACCEPTED, "-j", chains.external());
                }
                topNat.rule("-A", KUBE_NODEPORTS, comment, protoMatch, "--dport", nodePort, "-j", chains.external());
            }
            if (!hasExternal) {
                filter.rule("-A", KUBE_EXTERNAL_SERVICES, noEndpointsComment, "-m", "addrtype", "--dst-type", "LOCAL", protoMatch,
                        "--dport", nodePort, "-j", noEndpointsTarget);
            }
        }

        private void healthCheckNodePort() {
            if (port.healthCheckNodePort() > 0) {
                // Accepted whether or not this node has local endpoints: the answer (200 or 503) is the point.
                filter.rule("-A", KUBE_NODEPORTS, RuleWriter.comment(svcName + " health check node port"), "-m", "tcp", "-p", "tcp",
                        "--dport", Integer.toString(port.healthCheckNodePort()), "-j", "ACCEPT");
            }
        }

        /** The first rule of the SVC (or SVL) chain ClusterIP traffic enters. */
        private void internalMasquerade() {
            if (!hasInternal) {
                return;
            }
            List<Object> match = List.of(RuleWriter.comment(svcName + " cluster IP"), protoMatch, destination(port.clusterIP()));
            if (settings.masqueradeAll()) {
                natRules.rule("-A", internalChain, match, "-j", KUBE_MARK_MASQ);
            } else if (!settings.localCIDR().isEmpty()) {
                // Off-cluster sources reaching a ClusterIP (e.g. via a static route to a node) may be
                // forwarded to another node's pod: masquerade them so replies come back here.
                natRules.rule("-A", internalChain, match, "!", "-s", settings.localCIDR(), "-j", KUBE_MARK_MASQ);
            }
        }

        /** EXT: traffic from outside (NodePort, external and load-balancer IPs), masqueraded unless policy Local keeps the source. */
        private void externalChain() {
            if (!hasEndpoints || !port.externallyAccessible()) {
                return;
            }
            String ext = declare(chains.external());
            if (!port.usesExternalLocal()) {
                natRules.rule("-A", ext, RuleWriter.comment("masquerade traffic for " + svcName + " external destinations"), "-j",
                        KUBE_MARK_MASQ);
            } else {
                if (!settings.localCIDR().isEmpty()) {
                    // Pods reaching an external address of the Service behave as if they went out to
                    // the load balancer and came back: neither traffic policy applies.
                    natRules.rule("-A", ext, RuleWriter.comment("pod traffic for " + svcName + " external destinations"),
                            "-s", settings.localCIDR(), "-j", chains.cluster());
                }
                natRules.rule("-A", ext, RuleWriter.comment("masquerade LOCAL traffic for " + svcName + " external destinations"),
                        "-m", "addrtype", "--src-type", "LOCAL", "-j", KUBE_MARK_MASQ);
                natRules.rule("-A", ext, RuleWriter.comment("route LOCAL traffic for " + svcName + " external destinations"),
                        "-m", "addrtype", "--src-type", "LOCAL", "-j", chains.cluster());
            }
            if (hasExternal) {
                natRules.rule("-A", ext, "-j", externalPolicyChain);
            }
        }

        /** FW: load-balancer traffic from the allowed source ranges goes on to EXT; KUBE-PROXY-FIREWALL drops the rest. */
        private void firewallChain() {
            if (!usesFirewall) {
                return;
            }
            String fw = declare(chains.firewall());
            List<String> comment = RuleWriter.comment(svcName + " loadbalancer IP");
            boolean allowFromNode = false;
            for (String cidr : port.loadBalancerSourceRanges()) {
                natRules.rule("-A", fw, comment, "-s", cidr, "-j", chains.external());
                allowFromNode |= Cidr.parse(cidr).contains(settings.nodeIP());
            }
            if (allowFromNode) {
                // A request from this node to its own LB VIP loops back with the VIP as source.
                for (String ip : port.loadBalancerIPs()) {
                    natRules.rule("-A", fw, comment, "-s", ip, "-j", chains.external());
                }
            }
            natRules.rule("-A", fw, RuleWriter.comment("other traffic to " + svcName + " will be dropped by " + KUBE_PROXY_FIREWALL));
        }

        /** SVC or SVL: sticky clients back to their endpoint, then a random pick among the endpoints. */
        private void serviceChain(String chain, List<Endpoint> endpoints) {
            declare(chain);
            ServicePortName name = port.name();
            if (port.sessionAffinity()) {
                String seconds = Integer.toString(port.stickyMaxAgeSeconds());
                for (Endpoint ep : endpoints) {
                    String sep = names.endpoint(name, ep);
                    natRules.rule("-A", chain, endpointComment(svcName + " -> " + ep.hostPort()), "-m", "recent", "--name", sep,
                            "--rcheck", "--seconds", seconds, "--reap", "-j", sep);
                }
            }
            SchedulerAlgorithms.Scheduled scheduled = scheduling.schedule(choice, port, endpoints);
            SlotTable table = scheduled.table();
            if (table.key() == SlotTable.Key.SOURCE_ADDRESS && (masqueradeBits() & SLOT_MASK) != 0) {
                String reason = "iptables mode carries the hash slot in mark bits 0-13, which the masquerade mark "
                        + settings.masqueradeMark() + " overlaps; using \"" + IptablesScheduling.MODE_DEFAULT + "\"";
                scheduled = scheduling.schedule(new SchedulerChoice(new Scheduler(IptablesScheduling.MODE_DEFAULT, Set.of()),
                        Optional.of(reason)), port, endpoints);
                table = scheduled.table();
            }
            if (scheduled.choice().fellBack()) {
                choice = scheduled.choice();
            }
            if (distinct(table) == 1) {
                // One endpoint holds every slot: nothing to choose.
                Endpoint ep = endpoints.get(table.slots().get(0));
                natRules.rule("-A", chain, endpointComment(svcName + " -> " + ep.hostPort()), "-j", names.endpoint(name, ep));
                return;
            }
            switch (table.key()) {
                case RANDOM -> randomCascade(chain, endpoints, table);
                case ROUND_ROBIN -> roundRobinCascade(chain, endpoints, table);
                case SOURCE_ADDRESS -> hashDispatch(chain, endpoints, table);
            }
        }

        private long masqueradeBits() {
            return Long.decode(settings.masqueradeMark());
        }

        /**
         * Upstream's cascade: each endpoint's rule takes its share of what is left ({@code statistic --mode random
         * --probability w/remaining}, 1/(n-i) when every endpoint holds one slot), the last one takes the rest.
         */
        private void randomCascade(String chain, List<Endpoint> endpoints, SlotTable table) {
            int[] w = table.weights(endpoints.size());
            int remaining = table.slots().size();
            int last = endpoints.size() - 1;
            while (w[last] == 0) {
                last--;
            }
            for (int i = 0; i <= last; i++) {
                if (w[i] == 0) {
                    continue;
                }
                Endpoint ep = endpoints.get(i);
                List<String> probability = i < last
                        ? List.of("-m", "statistic", "--mode", "random", "--probability",
                                w[i] == 1
                                        ? probabilities.of(remaining)
                                        : String.format(java.util.Locale.ROOT, "%.10f", (double) w[i] / remaining))
                        : List.of();
                natRules.rule("-A", chain, endpointComment(svcName + " -> " + ep.hostPort()), probability, "-j",
                        names.endpoint(port.name(), ep));
                remaining -= w[i];
            }
        }

        /**
         * Round robin of new connections, one rule per slot: {@code statistic --mode nth --every K} counts only the
         * packets that reach that rule (each rule has its own counter), so slot j of M matches every (M-j)-th of
         * the connections the slots before it left: every M consecutive new connections visit each slot once.
         */
        private void roundRobinCascade(String chain, List<Endpoint> endpoints, SlotTable table) {
            int m = table.slots().size();
            for (int j = 0; j < m; j++) {
                Endpoint ep = endpoints.get(table.slots().get(j));
                List<String> nth = j < m - 1
                        ? List.of("-m", "statistic", "--mode", "nth", "--every", Integer.toString(m - j), "--packet", "0")
                        : List.of();
                natRules.rule("-A", chain, endpointComment(svcName + " -> " + ep.hostPort()), nth, "-j", names.endpoint(port.name(), ep));
            }
        }

        /**
         * HMARK hashes the client address (jhash with the fixed seed, the same on every node) into slot + offset
         * and sets the whole packet mark to it; slot runs then jump by {@code -m mark --mark V/MASK}. The masquerade
         * bit is kept by hashing with its bit as the offset when it was set (the second HMARK rule then sees it set
         * and does not run); the slot bits are cleared again in the SEP chain. Runs of slots on one endpoint are
         * written as aligned power-of-two blocks (a value/mask match cannot say a range).
         */
        private void hashDispatch(String chain, List<Endpoint> endpoints, SlotTable table) {
            markedSlots = true;
            String masq = settings.masqueradeMark();
            String mod = Integer.toString(table.slots().size());
            String seed = String.format("0x%x", SlotTable.HASH_SEED);
            List<String> comment = endpointComment(svcName + " hash slot");
            // The whole client address: 32 bits, or 128 for IPv6 (a /32 there would put a whole site in one slot).
            String prefix = Integer.toString(settings.family().bits());
            natRules.rule("-A", chain, comment, "-m", "mark", "--mark", masq + "/" + masq, "-j", "HMARK", "--hmark-src-prefix", prefix,
                    "--hmark-rnd", seed, "--hmark-mod", mod, "--hmark-offset", Long.toString(masqueradeBits()));
            natRules.rule("-A", chain, comment, "-m", "mark", "!", "--mark", masq + "/" + masq, "-j", "HMARK", "--hmark-src-prefix",
                    prefix, "--hmark-rnd", seed, "--hmark-mod", mod, "--hmark-offset", "0");
            List<SlotBlock> blocks = SlotBlock.of(table.slots());
            for (int b = 0; b < blocks.size(); b++) {
                SlotBlock block = blocks.get(b);
                Endpoint ep = endpoints.get(block.endpoint());
                List<String> match = b < blocks.size() - 1
                        ? List.of("-m", "mark", "--mark", String.format("0x%x/0x%x", block.first(), SLOT_MASK & ~(block.size() - 1L)))
                        : List.of();
                natRules.rule("-A", chain, endpointComment(svcName + " -> " + ep.hostPort()), match, "-j", names.endpoint(port.name(), ep));
            }
        }

        /** SEP: the DNAT to one endpoint. */
        private void endpointChain(Endpoint ep) {
            String sep = declare(names.endpoint(port.name(), ep));
            List<String> comment = endpointComment(svcName);
            if (markedSlots) {
                // Give back the low mark bits HMARK took (routing and filter rules after nat may read the mark).
                natRules.rule("-A", sep, comment, "-j", "MARK", "--set-xmark", String.format("0x0/0x%x", SLOT_MASK));
            }
            // Hairpin: a pod reaching itself through its Service must be masqueraded or the reply
            // would bypass the DNAT on the way back.
            natRules.rule("-A", sep, comment, "-s", ep.ip(), "-j", KUBE_MARK_MASQ);
            List<String> affinity = port.sessionAffinity() ? List.of("-m", "recent", "--name", sep, "--set") : List.of();
            natRules.rule("-A", sep, comment, affinity, protoMatch, "-j", "DNAT", "--to-destination", ep.hostPort());
        }

        private String declare(String chain) {
            natChains.chain(chain);
            active.add(chain);
            return chain;
        }

        /** Per-endpoint comments, left out in large clusters where they would be a large share of the text. */
        private List<String> endpointComment(String text) {
            return largeCluster ? List.of() : RuleWriter.comment(text);
        }
    }

    /**
     * A name as it may appear in comment text. Names are validated before they reach the state, but a rule
     * that ended its quoted string or line early would make iptables-restore reject the whole program, every
     * other Service with it, so whatever reaches here is made safe again: printable ASCII only, no quote,
     * backslash or space (the NodePort rule's comment is unquoted, as upstream's), and at most 191 characters,
     * the longest valid "namespace/name:port", so every comment stays within the kernel's 255.
     */
    static String commentText(String text) {
        int max = Math.min(text.length(), COMMENT_NAME_MAX);
        StringBuilder out = new StringBuilder(max);
        for (int i = 0; i < max; i++) {
            char ch = text.charAt(i);
            out.append(ch <= ' ' || ch > '~' || ch == '"' || ch == '\\' || ch == '\'' ? '_' : ch);
        }
        return out.isEmpty() ? "_" : out.toString();
    }

    private static long distinct(SlotTable table) {
        return table.slots().stream().distinct().count();
    }

    /**
     * An aligned block of slots on one endpoint: {@code size} a power of two, {@code first} a multiple of it, so
     * {@code --mark first/(SLOT_MASK & ~(size-1))} matches exactly its slots.
     */
    record SlotBlock(int first, int size, int endpoint) {

        /** Runs of consecutive slots on the same endpoint, each split into the fewest aligned blocks. */
        static List<SlotBlock> of(List<Integer> slots) {
            List<SlotBlock> blocks = new ArrayList<>();
            int start = 0;
            while (start < slots.size()) {
                int end = start;
                while (end + 1 < slots.size() && slots.get(end + 1).equals(slots.get(start))) {
                    end++;
                }
                int at = start;
                while (at <= end) {
                    int size = at == 0
                            ? Integer.highestOneBit(end + 1)
                            : Math.min(Integer.lowestOneBit(at), Integer.highestOneBit(end - at + 1));
                    blocks.add(new SlotBlock(at, size, slots.get(start)));
                    at += size;
                }
                start = end + 1;
            }
            return blocks;
        }
    }

    /** Upstream's probability strings, "%0.10f" of 1/n, computed once per n. */
    static final class Probabilities {

        private final List<String> cache = new ArrayList<>();

        String of(int n) {
            while (cache.size() <= n) {
                int k = cache.size();
                cache.add(k == 0 ? "" : String.format(java.util.Locale.ROOT, "%.10f", 1.0 / k));
            }
            return cache.get(n);
        }
    }
}
