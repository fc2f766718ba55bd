package io.kubeferry.nftables;

import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Renders a {@link ProxyState} into one nftables transaction on table {@code ip kube-proxy} (or, for an IPv6
 * instance, {@code ip6 kube-proxy}: {@link NftFamily}), with upstream kube-proxy 1.35.4's layout (k/k
 * pkg/proxy/nftables/proxier.go: setupNFTables, syncProxyRules): the same base chains and priorities, chains, sets,
 * maps, rules and comments, so {@code nft list table ip kube-proxy} on a kube-ferry node reads like one run by
 * kube-proxy and kube-proxy's cleanup removes it. Pure: the same inputs give the same transaction, nothing here
 * touches the machine.
 *
 * <p>A full sync rewrites every chain; a partial one only the changed Service ports' chains. Either way the
 * elements of the shared sets and maps are diffed against what the last sync left ({@link NftMemory}): new keys
 * are added, a changed verdict is deleted and added again, keys no Service wants any more are deleted, so an
 * unchanged Service writes nothing at all.
 */
final class NftablesRenderer {

    static final String TABLE = "kube-proxy";

    // Base chains, "${type}-${hook}". The 1.35.4 source already has the pre-dnat filter chains at dstnat-10 and the
    // other filter chains at filter priority (k/k PR #132456), which the reference (5.1) dates to 1.36 code: the
    // layout before it (filter chains at dstnat-10, filter-output-post-dnat at dstnat+10, firewall-check from
    // filter-prerouting/filter-output) is older than the 1.35.4 peer. Later changes not followed here: the plain goto
    // for single-endpoint Services (PR #140723, see ServiceDispatch) and listing over netlink (NFTablesNetlink, 1.37).
    static final String FILTER_PREROUTING_PRE_DNAT = "filter-prerouting-pre-dnat";
    static final String FILTER_OUTPUT_PRE_DNAT = "filter-output-pre-dnat";
    static final String FILTER_INPUT = "filter-input";
    static final String FILTER_FORWARD = "filter-forward";
    static final String FILTER_OUTPUT = "filter-output";
    static final String NAT_PREROUTING = "nat-prerouting";
    static final String NAT_OUTPUT = "nat-output";
    static final String NAT_POSTROUTING = "nat-postrouting";

    static final String SERVICES = "services";
    static final String SERVICE_IPS = "service-ips";
    static final String SERVICE_NODEPORTS = "service-nodeports";
    static final String NODEPORT_IPS = "nodeport-ips";
    static final String CLUSTER_IPS = "cluster-ips";
    static final String SERVICE_ENDPOINTS_CHECK = "service-endpoints-check";
    static final String NODEPORT_ENDPOINTS_CHECK = "nodeport-endpoints-check";
    static final String NO_ENDPOINT_SERVICES = "no-endpoint-services";
    static final String NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports";
    static final String REJECT_CHAIN = "reject-chain";
    static final String CLUSTER_IPS_CHECK = "cluster-ips-check";
    static final String FIREWALL_IPS = "firewall-ips";
    static final String FIREWALL_CHECK = "firewall-check";
    static final String MARK_MASQ = "mark-for-masquerade";
    static final String MASQUERADING = "masquerading";

    private static final String PROTO_PORT = "inet_proto . inet_service : verdict";

    /** Upstream's nftablesBaseChains, in its order. */
    static final List<NftObject.Chain> BASE_CHAINS = List.of(
            NftObject.Chain.base(FILTER_PREROUTING_PRE_DNAT, "filter", "prerouting", NftObject.Base.DSTNAT - 10),
            NftObject.Chain.base(FILTER_OUTPUT_PRE_DNAT, "filter", "output", NftObject.Base.DSTNAT - 10),
            NftObject.Chain.base(FILTER_INPUT, "filter", "input", NftObject.Base.FILTER),
            NftObject.Chain.base(FILTER_FORWARD, "filter", "forward", NftObject.Base.FILTER),
            NftObject.Chain.base(FILTER_OUTPUT, "filter", "output", NftObject.Base.FILTER),
            NftObject.Chain.base(NAT_PREROUTING, "nat", "prerouting", NftObject.Base.DSTNAT),
            NftObject.Chain.base(NAT_OUTPUT, "nat", "output", NftObject.Base.DSTNAT),
            NftObject.Chain.base(NAT_POSTROUTING, "nat", "postrouting", NftObject.Base.SRCNAT));

    /** Upstream's nftablesJumpChains: destination, source, match. Rejects run from input/forward/output only,
     *  because kernels before 5.9 cannot reject in prerouting. */
    record Jump(String to, String from, String match) {
    }

    static final List<Jump> JUMPS = List.of(
            new Jump(NODEPORT_ENDPOINTS_CHECK, FILTER_INPUT, "ct state new"),
            new Jump(SERVICE_ENDPOINTS_CHECK, FILTER_INPUT, "ct state new"),
            new Jump(SERVICE_ENDPOINTS_CHECK, FILTER_FORWARD, "ct state new"),
            new Jump(SERVICE_ENDPOINTS_CHECK, FILTER_OUTPUT, "ct state new"),
            new Jump(FIREWALL_CHECK, FILTER_PREROUTING_PRE_DNAT, "ct state new"),
            new Jump(FIREWALL_CHECK, FILTER_OUTPUT_PRE_DNAT, "ct state new"),
            new Jump(SERVICES, NAT_OUTPUT, ""),
            new Jump(SERVICES, NAT_PREROUTING, ""),
            new Jump(MASQUERADING, NAT_POSTROUTING, ""),
            new Jump(CLUSTER_IPS_CHECK, FILTER_FORWARD, "ct state new"),
            new Jump(CLUSTER_IPS_CHECK, FILTER_OUTPUT, "ct state new"));

    /** The sets and maps whose elements are diffed from sync to sync (upstream's nftElementStorage instances). */
    static final List<String> DIFFED = List.of(CLUSTER_IPS, SERVICE_IPS, FIREWALL_IPS, NO_ENDPOINT_SERVICES,
            NO_ENDPOINT_NODEPORTS, SERVICE_NODEPORTS, ServiceDispatch.SLOTS_MAP);

    /** Stale chains are deleted only this long after they were flushed (upstream: "more than 1 s"). */
    static final long STALE_DELETE_NANOS = 1_000_000_000L;

    private final NftNames names;
    private final NftablesScheduling scheduling;
    /** The one family this renderer's table is of (upstream: proxier.ipFamily). */
    private final NftFamily family;
    /** Upstream's ipvX_addr + " . inet_proto . inet_service : verdict". */
    private final String ipProtoPort;

    NftablesRenderer(NftNames names) {
        this(names, NftablesScheduling.defaults());
    }

    NftablesRenderer(NftNames names, NftablesScheduling scheduling) {
        this(names, scheduling, NftFamily.IPV4);
    }

    NftablesRenderer(NftNames names, NftablesScheduling scheduling, NftFamily family) {
        this.names = names;
        this.scheduling = scheduling;
        this.family = family;
        this.ipProtoPort = family.addressType() + " . inet_proto . inet_service : verdict";
    }

    NftFamily family() {
        return family;
    }

    /**
     * The chains and affinity sets a kernel table holds now, when known (read back from the kernel); with it a
     * first sync also flushes leftovers of an earlier run.
     */
    record KernelObjects(Set<String> chains, Set<String> sets) {

        KernelObjects {
            chains = Set.copyOf(chains);
            sets = Set.copyOf(sets);
        }
    }

    /**
     * @param state    the desired state
     * @param settings configuration
     * @param changed  Service ports to rewrite on a partial sync (ignored when full)
     * @param full     rewrite every chain
     * @param memory   what the last successful sync left, or null: then the sync is full and the shared sets and
     *                 maps are flushed and filled from scratch (in one atomic transaction: no traffic gap)
     * @param kernel   the table's chains and sets as read from the kernel, or null to trust {@code memory}
     * @param now      System.nanoTime of this sync, for the stale-chain delay
     */
    NftSync render(ProxyState state, NftablesSettings settings, Set<ServicePortName> changed, boolean full, NftMemory memory,
            KernelObjects kernel, long now) {
        if (state.family() != family.ipFamily()) {
            // One instance per family: another family's state in this table would be a wiring mistake, not a state.
            throw new IllegalArgumentException("the " + family.name() + " nftables renderer was given an " + state.family() + " state");
        }
        boolean fresh = memory == null;
        full |= fresh;
        NftTransaction cleanup = new NftTransaction(family.name(), TABLE);
        NftTransaction tx = new NftTransaction(family.name(), TABLE);

        Plan plan = plan(state, settings, changed, full, memory);
        Map<ServicePortName, ServiceProgram> programs = plan.programs();
        List<ServicePortName> rewritten = plan.rewritten();
        Set<ServicePortName> touched = plan.touched();
        TableNames kept = tableNames(plan, full, fresh, memory, kernel);
        Set<String> activeChains = kept.activeChains();
        Set<String> activeSets = kept.activeSets();
        Set<String> staleCandidates = kept.staleCandidates();
        Set<String> unusedSetCandidates = kept.unusedSetCandidates();

        // Chains flushed as stale by an earlier sync, long enough ago and not wanted again: deleted on their own.
        Map<String, Long> stale = new TreeMap<>(fresh ? Map.of() : memory.staleChains());
        for (Map.Entry<String, Long> e : new ArrayList<>(stale.entrySet())) {
            if (activeChains.contains(e.getKey())) {
                stale.remove(e.getKey());
            } else if (now - e.getValue() >= STALE_DELETE_NANOS) {
                cleanup.delete(NftObject.Chain.regular(e.getKey()));
                stale.remove(e.getKey());
                staleCandidates.remove(e.getKey());
            }
        }

        if (full) {
            setup(tx, settings, fresh);
            if (fresh && (kernel != null && kernel.sets().contains(ServiceDispatch.SLOTS_MAP) || usesSlots(programs))) {
                // The hash slot map exists only where some Service hashes or an earlier run left it (so tables without
                // one read as before); from scratch it starts empty like the other diffed maps, and an earlier run's
                // elements cannot keep the stale chains they point to from being deleted.
                NftObject.Container slots = slotsMap();
                tx.add(slots).flush(slots);
            }
        }
        for (ServicePortName name : rewritten) {
            ServiceProgram p = programs.get(name);
            for (String chain : p.chains()) {
                tx.add(NftObject.Chain.regular(chain)).flush(NftObject.Chain.regular(chain));
            }
            p.body().forEach(tx::add);
        }

        ElementDiff diff = full || fresh
                ? ElementDiff.full(tx, state, programs, fresh ? null : memory)
                : ElementDiff.partial(tx, state, programs, memory, touched);

        // Stale chains are flushed now and deleted by a later sync; a chain already flushed is not flushed again.
        // (Sorted for a stable transaction; only the few stale ones, not every chain of a large table.)
        TreeSet<String> newlyStale = new TreeSet<>();
        for (String chain : staleCandidates) {
            if (NftNames.isServiceChain(chain) && !activeChains.contains(chain) && !stale.containsKey(chain)) {
                newlyStale.add(chain);
            }
        }
        for (String chain : newlyStale) {
            tx.flush(NftObject.Chain.regular(chain));
            stale.put(chain, now);
        }
        // Affinity sets nothing uses any more can go at once: the chains that used them were flushed above.
        TreeSet<String> unusedSets = new TreeSet<>();
        for (String set : unusedSetCandidates) {
            if (!activeSets.contains(set)) {
                unusedSets.add(set);
            }
        }
        for (String set : unusedSets) {
            tx.delete(new NftObject.Container(false, set, null, List.of(), 0, null));
        }
        // Keys no Service wants any more go last, after the stale chains they may point to were flushed (upstream's order).
        diff.leftovers().forEach(tx::delete);
        NftMemory next = new NftMemory(programs, diff.store(), diff.owners(), diff.contested(), diff.claims(), activeChains, activeSets,
                stale);
        return new NftSync(cleanup, tx, next, full, full ? Set.of() : touched);
    }

    /** Which ports' programs are rendered anew (all on a full sync) and the programs after this sync. */
    record Plan(Map<ServicePortName, ServiceProgram> programs, List<ServicePortName> rewritten, Set<ServicePortName> touched) {
    }

    private Plan plan(ProxyState state, NftablesSettings settings, Set<ServicePortName> changed, boolean full, NftMemory memory) {
        // Programs: rendered for what is rewritten, reused for the rest. A partial sync starts from the last
        // sync's programs and touches only the changed ports, so its cost follows the change, not the cluster.
        Map<ServicePortName, ServiceProgram> programs;
        List<ServicePortName> rewritten = new ArrayList<>();
        Set<ServicePortName> touched = new TreeSet<>();
        if (full) {
            programs = new HashMap<>(Math.max(16, state.services().size() * 2));
            for (ResolvedService svc : state.services().values()) {
                programs.put(svc.name(), program(svc, settings));
                rewritten.add(svc.name());
            }
        } else {
            LayeredMap.Editor<ServicePortName, ServiceProgram> edited = LayeredMap.edit(memory.programs());
            touched.addAll(changed);
            // A port the caller did not name but that came or went since (defensive: the result must not depend on it).
            int came = 0;
            for (ServicePortName name : state.services().keySet()) {
                if (!edited.containsKey(name)) {
                    touched.add(name);
                    came++;
                }
            }
            if (memory.programs().size() + came != state.services().size()) {
                for (ServicePortName name : memory.programs().keySet()) {
                    if (!state.services().containsKey(name)) {
                        touched.add(name);
                    }
                }
            }
            for (ServicePortName name : touched) {
                ResolvedService svc = state.services().get(name);
                if (svc == null) {
                    edited.remove(name);
                } else {
                    edited.put(name, program(svc, settings));
                    rewritten.add(name);
                }
            }
            programs = edited.build();
        }
        return new Plan(programs, rewritten, touched);
    }

    /**
     * The per-Service chains and affinity sets after this sync, and the ones that may have become unused (every
     * one the table held on a full sync; the touched ports' old ones on a partial sync).
     */
    record TableNames(Set<String> activeChains, Set<String> activeSets, Set<String> staleCandidates, Set<String> unusedSetCandidates) {
    }

    private static TableNames tableNames(Plan plan, boolean full, boolean fresh, NftMemory memory, KernelObjects kernel) {
        Map<ServicePortName, ServiceProgram> programs = plan.programs();
        Set<String> activeChains;
        Set<String> activeSets;
        Set<String> staleCandidates = new HashSet<>();
        Set<String> unusedSetCandidates = new HashSet<>();
        if (full) {
            activeChains = new HashSet<>();
            activeSets = new HashSet<>();
            programs.values().forEach(p -> {
                activeChains.addAll(p.chains());
                activeSets.addAll(p.affinitySets());
            });
            if (kernel != null) {
                staleCandidates.addAll(kernel.chains());
                kernel.sets().stream().filter(NftNames::isAffinitySet).forEach(unusedSetCandidates::add);
            } else if (!fresh) {
                staleCandidates.addAll(memory.chains());
                unusedSetCandidates.addAll(memory.affinitySets());
            }
        } else {
            // Per-Service chain and set names are the Service's own: only the touched ports' can change. Copies that
            // cost the change, not the 60,000 chains (LayeredMap).
            LayeredMap.KeyEditor<String> chains = LayeredMap.editKeys(memory.chains());
            LayeredMap.KeyEditor<String> sets = LayeredMap.editKeys(memory.affinitySets());
            for (ServicePortName name : plan.touched()) {
                ServiceProgram old = memory.programs().get(name);
                if (old != null) {
                    old.chains().forEach(chains::remove);
                    old.affinitySets().forEach(sets::remove);
                    staleCandidates.addAll(old.chains());
                    unusedSetCandidates.addAll(old.affinitySets());
                }
            }
            for (ServicePortName name : plan.rewritten()) {
                chains.addAll(programs.get(name).chains());
                sets.addAll(programs.get(name).affinitySets());
            }
            activeChains = chains.build();
            activeSets = sets.build();
        }
        return new TableNames(activeChains, activeSets, staleCandidates, unusedSetCandidates);
    }

    /** The fixed part of the table, written on every full sync (upstream's setupNFTables). */
    private void setup(NftTransaction tx, NftablesSettings settings, boolean fresh) {
        tx.add(new NftObject.Table("rules for kube-proxy"));
        if (fresh) {
            // Once per start: add and delete every base chain, so one left with another priority by an older
            // version is created anew below (the kernel cannot change a base chain's priority in place).
            for (NftObject.Chain base : BASE_CHAINS) {
                tx.add(NftObject.Chain.regular(base.name())).delete(NftObject.Chain.regular(base.name()));
            }
        }
        for (NftObject.Chain base : BASE_CHAINS) {
            tx.add(base).flush(NftObject.Chain.regular(base.name()));
        }
        Set<String> created = new HashSet<>();
        for (Jump jump : JUMPS) {
            ensureChain(tx, created, jump.to());
            tx.add(NftObject.Rule.of(jump.from(), jump.match().isEmpty() ? "jump " + jump.to() : jump.match() + " jump " + jump.to()));
        }
        for (String chain : List.of(SERVICES, CLUSTER_IPS_CHECK, MASQUERADING, MARK_MASQ)) {
            ensureChain(tx, created, chain);
        }
        String mark = settings.masqueradeMark();
        tx.add(NftObject.Rule.of(MARK_MASQ, "mark set mark or " + mark));
        tx.add(NftObject.Rule.of(MASQUERADING, "mark and " + mark + " == 0 return"));
        // Clear the mark: a packet that goes through the stack again must not be masqueraded twice.
        tx.add(NftObject.Rule.of(MASQUERADING, "mark set mark xor " + mark));
        tx.add(NftObject.Rule.of(MASQUERADING, "masquerade fully-random"));

        tx.add(NftObject.Container.set(CLUSTER_IPS, family.addressType(), "Active ClusterIPs"));
        tx.add(NftObject.Rule.of(CLUSTER_IPS_CHECK, family.daddr() + " @" + CLUSTER_IPS + " reject",
                "Reject traffic to invalid ports of ClusterIPs"));
        if (!settings.serviceCIDRs().isEmpty()) {
            // One word joined by "," as upstream writes it (proxier.serviceCIDRs).
            tx.add(NftObject.Rule.of(CLUSTER_IPS_CHECK, family.daddr() + " { " + String.join(",", settings.serviceCIDRs()) + " } drop",
                    "Drop traffic to unallocated ClusterIPs"));
        }

        // "add" then "delete" where the set must not exist: a bare delete fails when it does not.
        tx.add(NftObject.Container.set(NODEPORT_IPS, family.addressType(), "IPs that accept NodePort traffic"));
        if (settings.allNodeAddresses()) {
            tx.delete(NftObject.Container.set(NODEPORT_IPS, null, null));
        } else {
            tx.flush(NftObject.Container.set(NODEPORT_IPS, null, null));
            for (String ip : settings.nodePortIPs()) {
                tx.add(NftObject.Element.ofSet(NODEPORT_IPS, ip));
            }
        }

        tx.add(NftObject.Container.map(NO_ENDPOINT_SERVICES, ipProtoPort,
                "vmap to drop or reject packets to services with no endpoints"));
        tx.add(NftObject.Container.map(NO_ENDPOINT_NODEPORTS, PROTO_PORT,
                "vmap to drop or reject packets to service nodeports with no endpoints"));
        tx.add(NftObject.Chain.regular(REJECT_CHAIN, "helper for @no-endpoint-services / @no-endpoint-nodeports"));
        tx.flush(NftObject.Chain.regular(REJECT_CHAIN));
        tx.add(NftObject.Rule.of(REJECT_CHAIN, "reject"));
        tx.add(NftObject.Rule.of(SERVICE_ENDPOINTS_CHECK, family.daddr() + " . meta l4proto . th dport vmap @" + NO_ENDPOINT_SERVICES));
        // NodePorts never answer on 127.0.0.1 (nor ::1) in nftables mode (upstream: no route_localnet, KEP-3866).
        String nodePorts = settings.allNodeAddresses() ? family.noLocalhost() : family.daddr() + " @" + NODEPORT_IPS;
        tx.add(NftObject.Rule.of(NODEPORT_ENDPOINTS_CHECK, nodePorts + " meta l4proto . th dport vmap @" + NO_ENDPOINT_NODEPORTS));

        tx.add(NftObject.Container.map(FIREWALL_IPS, ipProtoPort, "destinations that are subject to LoadBalancerSourceRanges"));
        ensureChain(tx, created, FIREWALL_CHECK);
        tx.add(NftObject.Rule.of(FIREWALL_CHECK, family.daddr() + " . meta l4proto . th dport vmap @" + FIREWALL_IPS));

        tx.add(NftObject.Container.map(SERVICE_IPS, ipProtoPort, "ClusterIP, ExternalIP and LoadBalancer IP traffic"));
        tx.add(NftObject.Container.map(SERVICE_NODEPORTS, PROTO_PORT, "NodePort traffic"));
        tx.add(NftObject.Rule.of(SERVICES, family.daddr() + " . meta l4proto . th dport vmap @" + SERVICE_IPS));
        tx.add(NftObject.Rule.of(SERVICES,
                (settings.allNodeAddresses() ? "fib daddr type local " + family.noLocalhost() : family.daddr() + " @" + NODEPORT_IPS)
                        + " meta l4proto . th dport vmap @" + SERVICE_NODEPORTS));
        if (fresh) {
            // Nothing is known of what the kernel's sets and maps hold (first sync, or the last one failed):
            // start them empty. Upstream reads them back instead (readOrReset); the result is the same table.
            for (String name : DIFFED) {
                if (name.equals(ServiceDispatch.SLOTS_MAP)) {
                    continue; // render() flushes it where it exists
                }
                tx.flush(name.equals(CLUSTER_IPS) ? NftObject.Container.set(name, null, null) : NftObject.Container.map(name, null, null));
            }
        }
    }

    private static boolean usesSlots(Map<ServicePortName, ServiceProgram> programs) {
        for (ServiceProgram p : programs.values()) {
            for (NftObject.Element e : p.elements()) {
                if (e.container().equals(ServiceDispatch.SLOTS_MAP)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static NftObject.Container slotsMap() {
        return NftObject.Container.map(ServiceDispatch.SLOTS_MAP, ServiceDispatch.SLOTS_TYPE, "hash slots of every hashing Service");
    }

    private static void ensureChain(NftTransaction tx, Set<String> created, String chain) {
        if (created.add(chain)) {
            tx.add(NftObject.Chain.regular(chain)).flush(NftObject.Chain.regular(chain));
        }
    }

    /** One Service port's chains, rules and elements (the per-Service part of upstream's syncProxyRules). */
    ServiceProgram program(ResolvedService svc, NftablesSettings settings) {
        ServicePort port = svc.port();
        ServicePortName name = port.name();
        NftNames.ServiceNames chains = names.of(name);
        String proto = name.protocol().lower();
        String portText = Integer.toString(port.port());
        String comment = commentText(name.toString());
        List<String> chainList = new ArrayList<>();
        List<String> affinitySets = new ArrayList<>();
        List<NftObject> body = new ArrayList<>();
        List<NftObject.Element> elements = new ArrayList<>();

        List<Endpoint> cluster = svc.clusterEndpoints();
        List<Endpoint> local = svc.localEndpoints();
        boolean hasEndpoints = svc.hasAnyEndpoints();
        List<Endpoint> reachable = svc.reachableEndpoints();
        for (Endpoint ep : reachable) {
            chainList.add(names.endpoint(name, ep));
        }
        boolean usesCluster = !cluster.isEmpty() && port.usesClusterEndpoints();
        boolean usesLocal = !local.isEmpty() && port.usesLocalEndpoints();
        if (usesCluster) {
            chainList.add(chains.cluster());
        }
        if (usesLocal) {
            chainList.add(chains.local());
        }
        String internalChain = chains.cluster();
        boolean hasInternal = hasEndpoints;
        if (port.internalPolicyLocal()) {
            internalChain = chains.local();
            hasInternal = hasEndpoints && !local.isEmpty();
        }
        String externalPolicyChain = chains.cluster();
        boolean hasExternal = hasEndpoints;
        if (port.usesExternalLocal()) {
            externalPolicyChain = chains.local();
            hasExternal = hasEndpoints && !local.isEmpty();
        }
        String externalChain = chains.external();
        // Needed even without external endpoints: its short-circuit rules serve pods and the node itself.
        boolean usesExternal = hasEndpoints && port.externallyAccessible();
        if (usesExternal) {
            chainList.add(externalChain);
        }
        String internalVerdict = null;
        String externalVerdict = null;
        if (!hasEndpoints) {
            internalVerdict = "goto " + REJECT_CHAIN;
            externalVerdict = internalVerdict;
        } else {
            if (!hasInternal) {
                internalVerdict = "drop";
            }
            if (!hasExternal) {
                externalVerdict = "drop";
            }
        }

        elements.add(NftObject.Element.ofSet(CLUSTER_IPS, port.clusterIP()));
        if (hasInternal) {
            elements.add(NftObject.Element.ofMap(SERVICE_IPS, List.of(port.clusterIP(), proto, portText), "goto " + internalChain, null));
        } else {
            elements.add(
                    NftObject.Element.ofMap(NO_ENDPOINT_SERVICES, List.of(port.clusterIP(), proto, portText), internalVerdict, comment));
        }
        for (String ip : port.externalIPs()) {
            if (hasEndpoints) {
                elements.add(NftObject.Element.ofMap(SERVICE_IPS, List.of(ip, proto, portText), "goto " + externalChain, null));
            }
            if (!hasExternal) {
                elements.add(NftObject.Element.ofMap(NO_ENDPOINT_SERVICES, List.of(ip, proto, portText), externalVerdict, comment));
            }
        }
        // Unlike iptables mode, the firewall applies with or without endpoints: it runs before DNAT, in filter.
        boolean usesFirewall = !port.loadBalancerIPs().isEmpty() && !port.loadBalancerSourceRanges().isEmpty();
        if (usesFirewall) {
            chainList.add(chains.firewall());
        }
        for (String ip : port.loadBalancerIPs()) {
            if (hasEndpoints) {
                elements.add(NftObject.Element.ofMap(SERVICE_IPS, List.of(ip, proto, portText), "goto " + externalChain, null));
            }
            if (usesFirewall) {
                elements.add(NftObject.Element.ofMap(FIREWALL_IPS, List.of(ip, proto, portText), "goto " + chains.firewall(), null));
            }
        }
        if (!hasExternal) {
            for (String ip : port.loadBalancerIPs()) {
                elements.add(NftObject.Element.ofMap(NO_ENDPOINT_SERVICES, List.of(ip, proto, portText), externalVerdict, comment));
            }
        }
        if (port.nodePort() > 0) {
            String nodePort = Integer.toString(port.nodePort());
            if (hasEndpoints) {
                // NodePorts are not subject to loadBalancerSourceRanges (upstream: "for better or for worse").
                elements.add(NftObject.Element.ofMap(SERVICE_NODEPORTS, List.of(proto, nodePort), "goto " + externalChain, null));
            }
            if (!hasExternal) {
                elements.add(NftObject.Element.ofMap(NO_ENDPOINT_NODEPORTS, List.of(proto, nodePort), externalVerdict, comment));
            }
        }
        // Health-check node ports need nothing here: the filter chains accept by default and the agent serves them.

        if (hasInternal && chainList.contains(internalChain)) {
            if (settings.masqueradeAll()) {
                body.add(NftObject.Rule.of(internalChain, family.daddr() + " " + port.clusterIP() + " jump " + MARK_MASQ));
            } else if (!settings.localCIDR().isEmpty()) {
                // Off-cluster sources reaching a ClusterIP (a static route to a node) may be sent to another node's
                // pod: masquerade them so replies come back here.
                body.add(NftObject.Rule.of(internalChain,
                        family.daddr() + " " + port.clusterIP() + " " + family.saddr() + " != " + settings.localCIDR()
                                + " jump " + MARK_MASQ));
            }
        }
        if (usesExternal) {
            if (!port.usesExternalLocal()) {
                body.add(NftObject.Rule.of(externalChain, "jump " + MARK_MASQ));
            } else {
                if (!settings.localCIDR().isEmpty()) {
                    // Pods reaching an external address behave as if they went out to the LB and back: neither
                    // traffic policy applies.
                    body.add(NftObject.Rule.of(externalChain, family.saddr() + " " + settings.localCIDR() + " goto " + chains.cluster(),
                            "short-circuit pod traffic"));
                }
                body.add(NftObject.Rule.of(externalChain, "fib saddr type local jump " + MARK_MASQ, "masquerade local traffic"));
                body.add(NftObject.Rule.of(externalChain, "fib saddr type local goto " + chains.cluster(), "short-circuit local traffic"));
            }
            if (hasExternal) {
                body.add(NftObject.Rule.of(externalChain, "goto " + externalPolicyChain));
            }
        }
        if (usesFirewall) {
            List<String> sources = new ArrayList<>();
            boolean allowFromNode = false;
            for (String cidr : port.loadBalancerSourceRanges()) {
                sources.add(cidr.strip());
                allowFromNode |= Cidr.parse(cidr).contains(settings.nodeIP());
            }
            if (allowFromNode) {
                // A request from this node to its own LB VIP (bound locally) loops back with the VIP as source.
                sources.addAll(port.loadBalancerIPs());
            }
            // " , " between the sources: upstream concatenates them with "," as separate words.
            body.add(NftObject.Rule.of(chains.firewall(), family.saddr() + " != { " + String.join(" , ", sources) + " } drop"));
        }
        boolean affinity = port.sessionAffinity();
        if (affinity) {
            for (Endpoint ep : reachable) {
                String set = NftNames.affinitySet(names.endpoint(name, ep));
                affinitySets.add(set);
                // "dynamic" too: without it some kernels add it themselves, and the next add then fails (upstream).
                body.add(new NftObject.Container(false, set, family.addressType(), List.of("dynamic", "timeout"),
                        port.stickyMaxAgeSeconds(), null));
            }
        }
        if (usesCluster) {
            dispatch(port, chains.cluster(), cluster, affinity, body, elements);
        }
        if (usesLocal) {
            dispatch(port, chains.local(), local, affinity, body, elements);
        }
        for (Endpoint ep : reachable) {
            String chain = names.endpoint(name, ep);
            // Hairpin: a pod reaching itself through its Service must be masqueraded, or the reply bypasses the DNAT.
            body.add(NftObject.Rule.of(chain, family.saddr() + " " + ep.ip() + " jump " + MARK_MASQ));
            if (affinity) {
                body.add(NftObject.Rule.of(chain, "update @" + NftNames.affinitySet(chain) + " { " + family.saddr() + " }"));
            }
            body.add(NftObject.Rule.of(chain, "meta l4proto " + proto + " dnat to " + ep.hostPort()));
        }
        return new ServiceProgram(chainList, affinitySets, body, elements);
    }

    /** One policy chain's dispatch, by the Service's algorithm; a hashing one (re)declares the shared slot map first. */
    private void dispatch(ServicePort port, String chain, List<Endpoint> endpoints, boolean affinity, List<NftObject> body,
            List<NftObject.Element> elements) {
        ServicePortName name = port.name();
        ServiceDispatch.Dispatch d = ServiceDispatch.of(family, chain, endpoints.stream().map(ep -> names.endpoint(name, ep)).toList(),
                affinity, scheduling.table(port, endpoints));
        if (!d.slots().isEmpty() && !body.contains(slotsMap())) {
            body.add(0, slotsMap());
        }
        body.addAll(d.rules());
        elements.addAll(d.slots());
    }

    /**
     * A Service port name as element comment text. Names are validated before they reach the state, but one
     * comment nft refuses would fail the whole transaction, every Service with it: printable ASCII without
     * quotes, at most nft's 128 characters (upstream writes the name as is, and a 191-character
     * "namespace/name:port" would fail its transaction).
     */
    static String commentText(String text) {
        int max = Math.min(text.length(), NftObject.COMMENT_MAX);
        StringBuilder out = new StringBuilder(max);
        for (int i = 0; i < max; i++) {
            char ch = text.charAt(i);
            out.append(ch < ' ' || ch > '~' || ch == '"' || ch == '\\' ? '_' : ch);
        }
        return out.toString();
    }
}
