package io.kubeferry.iptables;

import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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

    static final List<String> FILTER_CHAINS = List.of(KUBE_NODEPORTS, KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_PROXY_FIREWALL);
    static final List<String> NAT_CHAINS = List.of(KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ);

    /** Above this many endpoints, per-endpoint comments are dropped (upstream's large-cluster mode). */
    static final int LARGE_CLUSTER_ENDPOINTS = 1000;

    /** 63 (namespace) + 1 + 63 (name) + 1 + 63 (port name): see {@link #commentText}. */
    static final int COMMENT_NAME_MAX = 191;

    private static final String NODEPORTS_COMMENT = "kubernetes service nodeports; NOTE: this must be the last rule in this chain";

    private final ChainNames names;
    private final Probabilities probabilities = new Probabilities();

    IptablesRenderer(ChainNames names) {
        this.names = names;
    }

    /**
     * @param state          the desired state
     * @param settings       configuration
     * @param changed        Service ports to rewrite when not full (ignored when full)
     * @param full           rewrite every chain
     * @param existingChains per-Service-port nat chains present in the kernel now (stale ones get deleted)
     * @param presentJumps   jump rules already present in built-in chains (the others are inserted; full only)
     * @param previous       the program applied last (its per-Service rules), or null; a partial render needs it
     */
    RestoreProgram render(ProxyState state, IptablesSettings settings, Set<ServicePortName> changed, boolean full,
                          Set<String> existingChains, Set<JumpRule> presentJumps, RestoreProgram previous) {
        int totalEndpoints = 0;
        for (ResolvedService svc : state.services().values()) {
            totalEndpoints += svc.allEndpoints().size();
        }
        boolean largeCluster = totalEndpoints > LARGE_CLUSTER_ENDPOINTS;
        // Comments depend on the cluster's size, so crossing the threshold rewrites everything.
        if (previous == null || previous.largeCluster() != largeCluster) {
            full = true;
        }
        RuleWriter natChains = new RuleWriter(1024 + (full ? state.services().size() * 96 : 4096));
        RuleWriter natRules = new RuleWriter(1024 + (full ? state.services().size() * 1024 : 16384));
        Service ctx = new Service(settings, largeCluster);
        java.util.Map<ServicePortName, ServiceRules> rules;
        Set<String> active;
        Set<String> staleCandidates = existingChains;
        int filterCount = 0;
        int natCount = 0;
        if (full) {
            rules = new java.util.HashMap<>();
            active = new HashSet<>();
            for (ResolvedService svc : state.services().values()) {
                ServiceRules r = ctx.render(svc, natChains, natRules);
                rules.put(svc.name(), r);
                active.addAll(r.chains());
                filterCount += r.filterTop().size();
                natCount += r.natTop().size() + r.chainRules();
            }
        } else {
            // Start from the previous program and adjust for the changed ports only: a partial sync of one
            // Service in a cluster of 10,000 must not walk the other 9,999.
            rules = new java.util.HashMap<>(previous.services());
            active = new HashSet<>(previous.serviceChains());
            filterCount = previous.filterRules() - previous.fixedFilterRules();
            natCount = previous.natRules() - previous.fixedNatRules();
            staleCandidates = new HashSet<>();
            for (ServicePortName name : changed) {
                ServiceRules old = rules.remove(name);
                if (old != null) {
                    staleCandidates.addAll(old.chains());
                    active.removeAll(old.chains());
                    filterCount -= old.filterTop().size();
                    natCount -= old.natTop().size() + old.chainRules();
                }
                ResolvedService svc = state.services().get(name);
                if (svc != null) {
                    ServiceRules r = ctx.render(svc, natChains, natRules);
                    rules.put(name, r);
                    active.addAll(r.chains());
                    filterCount += r.filterTop().size();
                    natCount += r.natTop().size() + r.chainRules();
                }
            }
        }

        RuleWriter localnetGuard = new RuleWriter(256);
        RuleWriter fixedFilter = new RuleWriter(512);
        RuleWriter fixedNat = new RuleWriter(1024);
        writeLocalnetGuard(localnetGuard, settings);
        writeFixedFilterRules(fixedFilter, settings);
        writeFixedNatRules(fixedNat, settings);
        filterCount += localnetGuard.rules() + fixedFilter.rules();
        natCount += fixedNat.rules();
        // Stale chains: on a full sync, what the kernel has beyond what is wanted; on a partial one, what the
        // changed ports had before and no longer have (existingChains is then the previous program's).

        TreeSet<String> stale = new TreeSet<>();
        for (String chain : staleCandidates) {
            if (ChainNames.isServiceChain(chain) && !active.contains(chain)) {
                stale.add(chain);
            }
        }
        StringBuilder out = new StringBuilder(natChains.length() + natRules.length() + 4096
                + (full ? state.services().size() * 400 : 4096));
        if (full) {
            out.append("*mangle\n:").append(CANARY).append(" - [0:0]\nCOMMIT\n");
            out.append("*filter\n");
            for (String chain : FILTER_CHAINS) {
                out.append(':').append(chain).append(" - [0:0]\n");
            }
            out.append(':').append(CANARY).append(" - [0:0]\n");
            declareKubeletFirewall(out, settings);
            appendJumps(out, "filter", presentJumps);
            out.append(localnetGuard.text());
            // In the state's (sorted) order: the rules map is a HashMap, whose order could differ between runs.
            for (ResolvedService svc : state.services().values()) {
                rules.get(svc.name()).filterTop().forEach(line -> out.append(line).append('\n'));
            }
            out.append(fixedFilter.text()).append("COMMIT\n");
            out.append("*nat\n");
            for (String chain : NAT_CHAINS) {
                out.append(':').append(chain).append(" - [0:0]\n");
            }
            out.append(':').append(CANARY).append(" - [0:0]\n");
            out.append(natChains.text());
            stale.forEach(chain -> out.append(':').append(chain).append(" - [0:0]\n"));
            appendJumps(out, "nat", presentJumps);
            // Service rules in a stable order (the state's), then the fixed ones: the NodePort catch-all must
            // be the last rule of KUBE-SERVICES.
            for (ResolvedService svc : state.services().values()) {
                rules.get(svc.name()).natTop().forEach(line -> out.append(line).append('\n'));
            }
            out.append(natRules.text()).append(fixedNat.text());
        } else {
            // Partial: top-level chains are edited in place (delete what went, insert what came), so the
            // cost follows the change, not the cluster. Inserting at the top keeps the NodePort catch-all last.
            Set<ServicePortName> touched = new TreeSet<>(changed);
            out.append("*filter\n");
            for (ServicePortName name : touched) {
                edit(out, previous.services().get(name), rules.get(name), true);
            }
            out.append("COMMIT\n*nat\n");
            out.append(natChains.text());
            stale.forEach(chain -> out.append(':').append(chain).append(" - [0:0]\n"));
            for (ServicePortName name : touched) {
                edit(out, previous.services().get(name), rules.get(name), false);
            }
            out.append(natRules.text());
        }
        // A chain can only be deleted once nothing jumps to it: the -X lines come last.
        stale.forEach(chain -> out.append("-X ").append(chain).append('\n'));
        out.append("COMMIT\n");
        return new RestoreProgram(out.toString(), filterCount, natCount, active, full, largeCluster, rules,
                localnetGuard.rules() + fixedFilter.rules(), fixedNat.rules());
    }

    /** Top-level edits for one Service port: -D for rules it no longer has, -I for rules it newly has. */
    private static void edit(StringBuilder out, ServiceRules before, ServiceRules after, boolean filter) {
        List<String> old = before == null ? List.of() : (filter ? before.filterTop() : before.natTop());
        List<String> now = after == null ? List.of() : (filter ? after.filterTop() : after.natTop());
        Set<String> keep = new HashSet<>(now);
        for (String line : old) {
            if (!keep.contains(line)) {
                out.append("-D").append(line, 2, line.length()).append('\n');
            }
        }
        Set<String> had = new HashSet<>(old);
        // Each -I goes to the top, so the last line goes first: the chain then reads in render order (the
        // counting localhost NodePort rule must stay ahead of the catch-all one for the same port).
        for (int i = now.size() - 1; i >= 0; i--) {
            String line = now.get(i);
            if (!had.contains(line)) {
                out.append("-I").append(line, 2, line.length()).append('\n');
            }
        }
    }

    private static void appendJumps(StringBuilder out, String table, Set<JumpRule> present) {
        RuleWriter jumps = new RuleWriter(1024);
        SharedRules.insertJumps(jumps, table, JumpRule.ALL, present);
        out.append(jumps.text());
    }

    /**
     * kubelet's KUBE-FIREWALL chain. Upstream jumps to it from INPUT and OUTPUT whatever the setting, so it must
     * exist; with localhost NodePorts on it is ours to rewrite (flushed here, refilled by
     * {@link #writeLocalnetGuard}); with them off a chain already there (kubelet's) is left untouched, and a
     * missing one is created empty.
     */
    private static void declareKubeletFirewall(StringBuilder out, IptablesSettings settings) {
        if (settings.localhostNodePorts() || !settings.kubeletFirewall()) {
            out.append(':').append(KUBE_FIREWALL).append(" - [0:0]\n");
        }
    }

    /**
     * route_localnet lets 127.0.0.1:NodePort be DNATed, but also lets any host on the link send to 127/8
     * (k/k#90259): upstream's (and kubelet's) rule drops such packets unless conntrack knows them.
     */
    private static void writeLocalnetGuard(RuleWriter filter, IptablesSettings settings) {
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
            List<String> notLocalhost = settings.localhostNodePorts() ? List.of() : List.of("!", "-d", "127.0.0.0/8");
            nat.rule("-A", KUBE_SERVICES, RuleWriter.comment(NODEPORTS_COMMENT), "-m", "addrtype", "--dst-type", "LOCAL", notLocalhost,
                    "-j", KUBE_NODEPORTS);
        } else {
            for (String ip : settings.nodePortIPs()) {
                if (ip.startsWith("127.") && !settings.localhostNodePorts()) {
                    continue;
                }
                nat.rule("-A", KUBE_SERVICES, RuleWriter.comment(NODEPORTS_COMMENT), "-d", ip, "-j", KUBE_NODEPORTS);
            }
        }
    }

    /** Renders one Service port; holds what is shared by every port of one render. */
    private final class Service {
        private final IptablesSettings settings;
        private final boolean largeCluster;

        Service(IptablesSettings settings, boolean largeCluster) {
            this.settings = settings;
            this.largeCluster = largeCluster;
        }

        ServiceRules render(ResolvedService svc, RuleWriter natChains, RuleWriter natRules) {
            RuleWriter filter = new RuleWriter(256);
            RuleWriter topNat = new RuleWriter(512);
            Set<String> active = new HashSet<>();
            int rulesBefore = natRules.rules();
            ServicePort port = svc.port();
            ServicePortName name = port.name();
            String svcName = commentText(name.toString());
            String proto = name.protocol().lower();
            List<String> protoMatch = List.of("-m", proto, "-p", proto);
            ChainNames.PortChains chains = names.of(name);
            List<Endpoint> cluster = svc.clusterEndpoints();
            List<Endpoint> local = svc.localEndpoints();
            boolean hasEndpoints = svc.hasAnyEndpoints();

            boolean usesClusterChain = !cluster.isEmpty() && port.usesClusterEndpoints();
            boolean usesLocalChain = !local.isEmpty() && port.usesLocalEndpoints();

            String internalChain = chains.cluster();
            boolean hasInternal = hasEndpoints;
            if (port.internalPolicyLocal()) {
                internalChain = chains.local();
                hasInternal = hasInternal && !local.isEmpty();
            }
            String externalPolicyChain = chains.cluster();
            boolean hasExternal = hasEndpoints;
            if (port.usesExternalLocal()) {
                externalPolicyChain = chains.local();
                hasExternal = hasExternal && !local.isEmpty();
            }
            String externalChain = chains.external();
            boolean usesFirewall = hasEndpoints && !port.loadBalancerIPs().isEmpty() && !port.loadBalancerSourceRanges().isEmpty();
            String lbChain = usesFirewall ? chains.firewall() : externalChain;

            String internalTarget = null;
            List<String> internalComment = null;
            String externalTarget = null;
            List<String> externalComment = null;
            if (!hasEndpoints) {
                internalTarget = "REJECT";
                internalComment = RuleWriter.comment(svcName + " has no endpoints");
                externalTarget = internalTarget;
                externalComment = internalComment;
            } else {
                if (!hasInternal) {
                    internalTarget = "DROP";
                    internalComment = RuleWriter.comment(svcName + " has no local endpoints");
                }
                if (!hasExternal) {
                    externalTarget = "DROP";
                    externalComment = RuleWriter.comment(svcName + " has no local endpoints");
                }
            }

            String dport = Integer.toString(port.port());
            List<String> clusterIPMatch = List.of("-m", proto, "-p", proto, "-d", port.clusterIP(), "--dport", dport);
            if (hasInternal) {
                topNat.rule("-A", KUBE_SERVICES, RuleWriter.comment(svcName + " cluster IP"), clusterIPMatch, "-j", internalChain);
            } else {
                filter.rule("-A", KUBE_SERVICES, internalComment, clusterIPMatch, "-j", internalTarget);
            }

            for (String ip : port.externalIPs()) {
                if (hasEndpoints) {
                    topNat.rule("-A", KUBE_SERVICES, RuleWriter.comment(svcName + " external IP"), protoMatch, "-d", ip, "--dport", dport,
                            "-j", externalChain);
                }
                if (!hasExternal) {
                    filter.rule("-A", KUBE_EXTERNAL_SERVICES, externalComment, protoMatch, "-d", ip, "--dport", dport, "-j", externalTarget);
                }
            }

            for (String ip : port.loadBalancerIPs()) {
                if (hasEndpoints) {
                    topNat.rule("-A", KUBE_SERVICES, RuleWriter.comment(svcName + " loadbalancer IP"), protoMatch, "-d", ip, "--dport", dport,
                            "-j", lbChain);
                }
                if (usesFirewall) {
                    filter.rule("-A", KUBE_PROXY_FIREWALL, RuleWriter.comment(svcName + " traffic not accepted by " + chains.firewall()),
                            protoMatch, "-d", ip, "--dport", dport, "-j", "DROP");
                }
            }
            if (!hasExternal) {
                for (String ip : port.loadBalancerIPs()) {
                    filter.rule("-A", KUBE_EXTERNAL_SERVICES, externalComment, protoMatch, "-d", ip, "--dport", dport, "-j", externalTarget);
                }
            }

            if (port.nodePort() > 0) {
                String nodePort = Integer.toString(port.nodePort());
                // Unquoted, as upstream writes it (commentText leaves no space in the name).
                List<String> nodePortComment = List.of("-m", "comment", "--comment", svcName);
                if (hasEndpoints) {
                    if (settings.localhostNodePorts() && settings.counts(NfacctCounters.LOCALHOST_NODEPORTS_ACCEPTED)) {
                        // The same jump, first, for 127.0.0.0/8 only: it counts localhost NodePort connections.
                        topNat.rule("-A", KUBE_NODEPORTS, nodePortComment, protoMatch, "-d", "127.0.0.0/8", "--dport", nodePort,
                                "-m", "nfacct", "--nfacct-name", NfacctCounters.LOCALHOST_NODEPORTS_ACCEPTED, "-j", externalChain);
                    }
                    topNat.rule("-A", KUBE_NODEPORTS, nodePortComment, protoMatch, "--dport", nodePort, "-j", externalChain);
                }
                if (!hasExternal) {
                    filter.rule("-A", KUBE_EXTERNAL_SERVICES, externalComment, "-m", "addrtype", "--dst-type", "LOCAL", protoMatch,
                            "--dport", nodePort, "-j", externalTarget);
                }
            }

            if (port.healthCheckNodePort() > 0) {
                // Accepted whether or not this node has local endpoints: the answer (200 or 503) is the point.
                filter.rule("-A", KUBE_NODEPORTS, RuleWriter.comment(svcName + " health check node port"), "-m", "tcp", "-p", "tcp",
                        "--dport", Integer.toString(port.healthCheckNodePort()), "-j", "ACCEPT");
            }

            // From here on: the per-Service-port chains, skipped (but counted) on a partial sync when unchanged.
            if (hasInternal) {
                List<String> clusterIP = RuleWriter.comment(svcName + " cluster IP");
                if (settings.masqueradeAll()) {
                    natRules.rule("-A", internalChain, clusterIP, clusterIPMatch, "-j", KUBE_MARK_MASQ);
                } else if (!settings.localCIDR().isEmpty()) {
                    // Off-cluster sources reaching a ClusterIP (e.g. via a static route to a node) may be
                    // forwarded to another node's pod: masquerade them so replies come back here.
                    natRules.rule("-A", internalChain, clusterIP, clusterIPMatch, "!", "-s", settings.localCIDR(), "-j", KUBE_MARK_MASQ);
                }
            }

            if (hasEndpoints && port.externallyAccessible()) {
                natChains.chain(externalChain);
                active.add(externalChain);
                if (!port.usesExternalLocal()) {
                    natRules.rule("-A", externalChain, RuleWriter.comment("masquerade traffic for " + svcName + " external destinations"),
                            "-j", KUBE_MARK_MASQ);
                } else {
                    if (!settings.localCIDR().isEmpty()) {
                        // Pods reaching an external address of the Service behave as if they went out to
                        // the load balancer and came back: neither traffic policy applies.
                        natRules.rule("-A", externalChain, RuleWriter.comment("pod traffic for " + svcName + " external destinations"),
                                "-s", settings.localCIDR(), "-j", chains.cluster());
                    }
                    natRules.rule("-A", externalChain, RuleWriter.comment("masquerade LOCAL traffic for " + svcName + " external destinations"),
                            "-m", "addrtype", "--src-type", "LOCAL", "-j", KUBE_MARK_MASQ);
                    natRules.rule("-A", externalChain, RuleWriter.comment("route LOCAL traffic for " + svcName + " external destinations"),
                            "-m", "addrtype", "--src-type", "LOCAL", "-j", chains.cluster());
                }
                if (hasExternal) {
                    natRules.rule("-A", externalChain, "-j", externalPolicyChain);
                }
            }

            if (usesFirewall) {
                String fw = chains.firewall();
                natChains.chain(fw);
                active.add(fw);
                List<String> lbIP = RuleWriter.comment(svcName + " loadbalancer IP");
                boolean allowFromNode = false;
                for (String cidr : port.loadBalancerSourceRanges()) {
                    natRules.rule("-A", fw, lbIP, "-s", cidr, "-j", externalChain);
                    allowFromNode |= Cidr.parse(cidr).contains(settings.nodeIP());
                }
                if (allowFromNode) {
                    // A request from this node to its own LB VIP loops back with the VIP as source.
                    for (String ip : port.loadBalancerIPs()) {
                        natRules.rule("-A", fw, lbIP, "-s", ip, "-j", externalChain);
                    }
                }
                natRules.rule("-A", fw, RuleWriter.comment("other traffic to " + svcName + " will be dropped by " + KUBE_PROXY_FIREWALL));
            }

            if (usesClusterChain) {
                natChains.chain(chains.cluster());
                active.add(chains.cluster());
                writeEndpointJumps(natRules, svc, chains.cluster(), cluster, svcName);
            }
            if (usesLocalChain) {
                natChains.chain(chains.local());
                active.add(chains.local());
                writeEndpointJumps(natRules, svc, chains.local(), local, svcName);
            }

            for (Endpoint ep : svc.reachableEndpoints()) {
                String sep = names.endpoint(name, ep);
                natChains.chain(sep);
                active.add(sep);
                List<String> comment = comment(svcName);
                // Hairpin: a pod reaching itself through its Service must be masqueraded or the reply
                // would bypass the DNAT on the way back.
                natRules.rule("-A", sep, comment, "-s", ep.ip(), "-j", KUBE_MARK_MASQ);
                List<String> affinity = port.sessionAffinity() ? List.of("-m", "recent", "--name", sep, "--set") : List.of();
                natRules.rule("-A", sep, comment, affinity, protoMatch, "-j", "DNAT", "--to-destination", ep.hostPort());
            }
            return new ServiceRules(filter.lines(), topNat.lines(), natRules.rules() - rulesBefore, active);
        }

        private void writeEndpointJumps(RuleWriter natRules, ResolvedService svc, String chain, List<Endpoint> endpoints, String svcName) {
            ServicePort port = svc.port();
            ServicePortName name = port.name();
            if (port.sessionAffinity()) {
                String seconds = Integer.toString(port.stickyMaxAgeSeconds());
                for (Endpoint ep : endpoints) {
                    String sep = names.endpoint(name, ep);
                    natRules.rule("-A", chain, comment(svcName + " -> " + ep.hostPort()), "-m", "recent", "--name", sep,
                            "--rcheck", "--seconds", seconds, "--reap", "-j", sep);
                }
            }
            int n = endpoints.size();
            for (int i = 0; i < n; i++) {
                Endpoint ep = endpoints.get(i);
                List<String> probability = i < n - 1 ? List.of("-m", "statistic", "--mode", "random", "--probability", probabilities.of(n - i))
                        : List.of();
                natRules.rule("-A", chain, comment(svcName + " -> " + ep.hostPort()), probability, "-j", names.endpoint(name, ep));
            }
        }

        /** Per-endpoint comments, left out in large clusters where they would be a large share of the text. */
        private List<String> comment(String text) {
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
