package io.kubeferry.iptables;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.Fixtures;
import io.kubeferry.proxy.testing.GoldenFiles;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden files: each is the full restore input for one feature, reviewed line by line against upstream
 * kube-proxy's layout. Run with -Dkubeferry.updateGolden=true to rewrite them, then review the diff.
 */
class IptablesRendererTest {

    private static final GoldenFiles GOLDEN = GoldenFiles.standard();
    private static final IptablesSettings CLUSTER_CIDR = IptablesSettings.defaults()
            .withNodeIP("198.18.0.1");
    private static final IptablesSettings WITH_POD_CIDR = new IptablesSettings("0x4000", false, "198.18.0.0/16", null, true, true,
            "198.18.0.1");

    private static final Set<String> BOTH_COUNTERS = Set.of(NfacctCounters.CT_STATE_INVALID_DROPPED,
            NfacctCounters.LOCALHOST_NODEPORTS_ACCEPTED);

    private final IptablesRenderer renderer = new IptablesRenderer(new ChainNames(1000));

    private String full(ProxyState state, IptablesSettings settings) {
        return renderer.full(state, settings, KernelState.NONE).text();
    }

    private static void golden(String name, String actual) throws IOException {
        GOLDEN.check(name, actual);
    }

    @Test
    void clusterIP() throws IOException {
        ResolvedService svc = port("ns1", "svc1", "p80", Protocol.TCP, "198.19.0.10", 80)
                .resolve(endpoint("198.18.0.2", 8080), endpoint("198.18.0.3", 8080));
        golden("clusterip", full(state(svc), WITH_POD_CIDR));
    }

    @Test
    void nodePort() throws IOException {
        ResolvedService svc = port("ns1", "web", "", Protocol.TCP, "198.19.0.11", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.2", 8080));
        golden("nodeport", full(state(svc), WITH_POD_CIDR));
    }

    @Test
    void nodePortAddresses() throws IOException {
        ResolvedService svc = port("ns1", "web", "", Protocol.TCP, "198.19.0.11", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.2", 8080));
        IptablesSettings settings = new IptablesSettings("0x4000", false, "", List.of("198.18.0.1", "127.0.0.1"), false, true,
                "198.18.0.1");
        golden("nodeport-addresses", full(state(svc), settings));
    }

    /** iptables.localhostNodePorts=false: the catch-all skips 127.0.0.0/8, KUBE-FIREWALL stays empty (upstream). */
    @Test
    void nodePortWithoutLocalhost() throws IOException {
        ResolvedService svc = port("ns1", "web", "", Protocol.TCP, "198.19.0.11", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.2", 8080));
        String text = full(state(svc), WITH_POD_CIDR.withLocalhostNodePorts(false));
        golden("nodeport-localhost-off", text);
        assertFalse(text.contains("block incoming localnet connections"));
        assertTrue(text.contains("-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS"));
    }

    /** With localhost NodePorts off, kubelet's KUBE-FIREWALL (when there) is not declared, so not flushed. */
    @Test
    void kubeletsFirewallChainIsLeftAloneWhenLocalhostNodePortsAreOff() {
        ResolvedService svc = port("ns1", "web", "", Protocol.TCP, "198.19.0.11", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.2", 8080));
        String off = full(state(svc), WITH_POD_CIDR.withLocalhostNodePorts(false).withKubeletFirewall(true));
        assertFalse(off.contains(":KUBE-FIREWALL"), off);
        assertTrue(off.contains("-I INPUT -j KUBE-FIREWALL"), "the jump is still ensured, as upstream does");
        String on = full(state(svc), WITH_POD_CIDR.withKubeletFirewall(true));
        assertTrue(on.contains(":KUBE-FIREWALL - [0:0]"), "with localhost NodePorts on the chain is rewritten");
    }

    /** nfacct present: upstream's counting matches on the INVALID drop and, first, on localhost NodePorts. */
    @Test
    void nodePortWithNfacctCounters() throws IOException {
        ResolvedService svc = port("ns1", "web", "", Protocol.TCP, "198.19.0.11", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.2", 8080));
        ResolvedService empty = port("ns1", "empty", "", Protocol.TCP, "198.19.0.18", 80).nodePort(30082).resolve();
        golden("nodeport-nfacct", full(state(svc, empty), WITH_POD_CIDR.withNfacctCounters(BOTH_COUNTERS)));
    }

    /** nfacct present but localhost NodePorts off: only the INVALID drop counts. */
    @Test
    void nfacctWithoutLocalhostNodePorts() throws IOException {
        ResolvedService svc = port("ns1", "web", "", Protocol.TCP, "198.19.0.11", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.2", 8080));
        String text = full(state(svc), WITH_POD_CIDR.withLocalhostNodePorts(false).withNfacctCounters(BOTH_COUNTERS));
        golden("nodeport-nfacct-localhost-off", text);
        assertFalse(text.contains(NfacctCounters.LOCALHOST_NODEPORTS_ACCEPTED));
    }

    /** A NodePort added by a partial sync gets the counting rule above the catch-all, as a full sync writes them. */
    @Test
    void partialSyncKeepsTheCountingNodePortRuleFirst() {
        IptablesSettings settings = WITH_POD_CIDR.withNfacctCounters(BOTH_COUNTERS);
        ResolvedService a = port("ns1", "a", "", Protocol.TCP, "198.19.0.21", 80).resolve(endpoint("198.18.0.2", 8080));
        RestoreProgram first = renderer.full(state(a), settings, KernelState.NONE);
        ResolvedService web = port("ns1", "web", "", Protocol.TCP, "198.19.0.11", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.2", 8080));
        RestoreProgram partial = renderer.partial(state(a, web), settings, Set.of(web.name()),
                new KernelState(first, first.serviceChains(), Set.copyOf(JumpRule.ALL)));
        List<String> inserted = partial.text().lines().filter(l -> l.startsWith("-I KUBE-NODEPORTS")).toList();
        assertEquals(2, inserted.size(), partial.text());
        // Each -I lands on top: the catch-all is inserted first so that the counting rule ends up above it.
        assertFalse(inserted.get(0).contains("127.0.0.0/8"), inserted.toString());
        assertTrue(inserted.get(1).contains("-d 127.0.0.0/8 --dport 30080 -m nfacct --nfacct-name localhost_nps_accepted_pkts"));
    }

    @Test
    void externalIP() throws IOException {
        ResolvedService svc = port("ns1", "ext", "http", Protocol.TCP, "198.19.0.12", 80).externalIP("198.19.100.1")
                .resolve(endpoint("198.18.0.2", 8080));
        golden("externalip", full(state(svc), CLUSTER_CIDR));
    }

    @Test
    void loadBalancerWithSourceRanges() throws IOException {
        ResolvedService svc = port("ns1", "lb", "https", Protocol.TCP, "198.19.0.13", 443).nodePort(30443)
                .loadBalancerIP("198.19.200.1").sourceRange("198.18.0.0/24").sourceRange("203.0.113.0/25")
                .resolve(endpoint("198.18.0.2", 8443));
        golden("loadbalancer-sourceranges", full(state(svc), WITH_POD_CIDR));
    }

    @Test
    void externalTrafficPolicyLocal() throws IOException {
        ResolvedService svc = port("ns1", "local", "", Protocol.TCP, "198.19.0.14", 80).nodePort(30081).externalLocal(31000)
                .resolve(localEndpoint("198.18.0.2", 8080), endpoint("198.18.0.3", 8080));
        golden("etp-local", full(state(svc), WITH_POD_CIDR));
    }

    @Test
    void externalTrafficPolicyLocalWithoutLocalEndpoints() throws IOException {
        ResolvedService svc = port("ns1", "local", "", Protocol.TCP, "198.19.0.14", 80).nodePort(30081).externalLocal(31000)
                .resolve(endpoint("198.18.0.3", 8080));
        golden("etp-local-none", full(state(svc), WITH_POD_CIDR));
    }

    @Test
    void internalTrafficPolicyLocal() throws IOException {
        ResolvedService withLocal = port("ns1", "itp", "", Protocol.TCP, "198.19.0.15", 80).internalLocal()
                .resolve(localEndpoint("198.18.0.2", 8080), endpoint("198.18.0.3", 8080));
        ResolvedService withoutLocal = port("ns1", "itp-none", "", Protocol.TCP, "198.19.0.16", 80).internalLocal()
                .resolve(endpoint("198.18.0.3", 8080));
        golden("itp-local", full(state(withLocal, withoutLocal), WITH_POD_CIDR));
    }

    @Test
    void clientIPAffinity() throws IOException {
        ResolvedService svc = port("ns1", "sticky", "", Protocol.TCP, "198.19.0.17", 80).sticky(10800)
                .resolve(endpoint("198.18.0.2", 8080), endpoint("198.18.0.3", 8080));
        golden("affinity", full(state(svc), WITH_POD_CIDR));
    }

    @Test
    void noEndpoints() throws IOException {
        ResolvedService svc = port("ns1", "empty", "", Protocol.TCP, "198.19.0.18", 80).nodePort(30082)
                .externalIP("198.19.100.2").loadBalancerIP("198.19.200.2").resolve();
        golden("no-endpoints", full(state(svc), WITH_POD_CIDR));
    }

    @Test
    void masqueradeAllWithOtherBit() throws IOException {
        ResolvedService svc = port("ns1", "svc1", "", Protocol.TCP, "198.19.0.19", 80).resolve(endpoint("198.18.0.2", 8080));
        IptablesSettings settings = new IptablesSettings("0x8000", true, "198.18.0.0/16", null, true, false, "198.18.0.1");
        golden("masquerade-all", full(state(svc), settings));
    }

    @Test
    void udpAndSctp() throws IOException {
        ResolvedService dns = port("kube-system", "dns", "dns", Protocol.UDP, "198.19.0.53", 53).resolve(endpoint("198.18.0.5", 53));
        ResolvedService sctp = port("ns1", "sig", "", Protocol.SCTP, "198.19.0.20", 3868).resolve(endpoint("198.18.0.6", 3868));
        golden("udp-sctp", full(state(dns, sctp), WITH_POD_CIDR));
    }

    @Test
    void partialSyncWritesOnlyChangedChainsAndDeletesStaleOnes() throws IOException {
        ResolvedService a = port("ns1", "a", "", Protocol.TCP, "198.19.0.21", 80).resolve(endpoint("198.18.0.2", 8080));
        ResolvedService b = port("ns1", "b", "", Protocol.TCP, "198.19.0.22", 80).resolve(endpoint("198.18.0.4", 8080));
        ProxyState before = state(a, b);
        RestoreProgram first = renderer.full(before, WITH_POD_CIDR, KernelState.NONE);

        // b's endpoint moves: its old SEP chain must go, a's chains must not be written at all.
        ResolvedService b2 = port("ns1", "b", "", Protocol.TCP, "198.19.0.22", 80).resolve(endpoint("198.18.0.9", 8080));
        RestoreProgram partial = renderer.partial(state(a, b2), WITH_POD_CIDR, Set.of(b2.name()),
                new KernelState(first, first.serviceChains(), Set.copyOf(JumpRule.ALL)));
        golden("partial", partial.text());
        String aChain = new ChainNames(10).of(a.name()).cluster();
        assertFalse(partial.text().contains(":" + aChain), "unchanged service chain must not be rewritten");
        assertTrue(partial.text().contains("-X KUBE-SEP-"), "stale endpoint chain deleted");
        assertTrue(partial.serviceChains().contains(aChain), "unchanged chains still count as present");
        assertEquals(first.natRules(), partial.natRules(), "rule counts include chains not written");
    }

    @Test
    void partialSyncEditsTopLevelChainsInPlaceForAddedAndRemovedServices() throws IOException {
        ResolvedService a = port("ns1", "a", "", Protocol.TCP, "198.19.0.21", 80).resolve(endpoint("198.18.0.2", 8080));
        ResolvedService b = port("ns1", "b", "", Protocol.TCP, "198.19.0.22", 80).nodePort(30022).resolve(endpoint("198.18.0.4", 8080));
        RestoreProgram first = renderer.full(state(a, b), WITH_POD_CIDR, KernelState.NONE);
        // b goes away, c arrives without endpoints (a REJECT in filter).
        ResolvedService c = port("ns1", "c", "", Protocol.TCP, "198.19.0.23", 80).resolve();
        RestoreProgram partial = renderer.partial(state(a, c), WITH_POD_CIDR, Set.of(b.name(), c.name()),
                new KernelState(first, first.serviceChains(), Set.copyOf(JumpRule.ALL)));
        golden("partial-add-remove", partial.text());
        assertEquals(1, partial.filterRules() - 4, "c's REJECT is the only service rule in filter (3 in KUBE-FORWARD, 1 in KUBE-FIREWALL)");
        assertFalse(partial.serviceChains().stream().anyMatch(first.services().get(b.name()).chains()::contains), "b's chains are gone");
    }

    @Test
    void presentJumpRulesAreNotInsertedAgain() {
        ResolvedService a = port("ns1", "a", "", Protocol.TCP, "198.19.0.21", 80).resolve(endpoint("198.18.0.2", 8080));
        String fresh = renderer.full(state(a), WITH_POD_CIDR, KernelState.NONE).text();
        String again = renderer.full(state(a), WITH_POD_CIDR, new KernelState(null, Set.of(), Set.copyOf(JumpRule.ALL))).text();
        assertEquals(JumpRule.ALL.size(), fresh.lines().filter(l -> l.startsWith("-I ")).count());
        assertEquals(0, again.lines().filter(l -> l.startsWith("-I ")).count());
    }

    @Test
    void largeClustersDropPerEndpointComments() {
        List<Endpoint> eps = new ArrayList<>();
        for (int i = 0; i < 1001; i++) {
            eps.add(endpoint("198.18." + (i / 250) + "." + (i % 250 + 1), 8080));
        }
        ResolvedService big = port("ns1", "big", "", Protocol.TCP, "198.19.0.30", 80).resolve(eps.toArray(Endpoint[]::new));
        String text = full(state(big), WITH_POD_CIDR);
        assertFalse(text.contains("-> 198.18."), "no per-endpoint comments above 1000 endpoints");
        assertTrue(text.contains("\"ns1/big cluster IP\""), "service comments stay");
    }

    @Test
    void probabilitiesAreUpstreamStrings() {
        IptablesRenderer.Probabilities p = new IptablesRenderer.Probabilities();
        assertEquals("0.5000000000", p.of(2));
        assertEquals("0.3333333333", p.of(3));
        assertEquals("0.0010000000", p.of(1000));
    }

    /**
     * Upstream's number_generated_rules_test cases (cluster CIDR set and localhost NodePorts on, as in upstream's
     * fake proxier: its filter counts include the KUBE-FIREWALL rule).
     */
    @Test
    void ruleCountsMatchUpstream() {
        assertCounts(state(), 4, 5);
        assertCounts(state(services(1, 1, false)), 4, 10);
        assertCounts(state(services(10, 10, false)), 4, 325);
        assertCounts(state(services(10, 10, true)), 14, 385);
    }

    private void assertCounts(ProxyState state, int filter, int nat) {
        RestoreProgram program = renderer.full(state, WITH_POD_CIDR, KernelState.NONE);
        assertEquals(filter, program.filterRules(), "filter rules");
        assertEquals(nat, program.natRules(), "nat rules");
        // The counts are the rules really in the text, not a separate tally.
        long filterLines = section(program.text(), "*filter").stream().filter(l -> l.startsWith("-A ")).count();
        long natLines = section(program.text(), "*nat").stream().filter(l -> l.startsWith("-A ")).count();
        assertEquals(filter, filterLines);
        assertEquals(nat, natLines);
    }

    private static List<String> section(String text, String header) {
        List<String> lines = text.lines().toList();
        int start = lines.indexOf(header);
        int end = lines.subList(start, lines.size()).indexOf("COMMIT") + start;
        return lines.subList(start, end);
    }

    private static ResolvedService[] services(int count, int endpoints, boolean loadBalancer) {
        ResolvedService[] result = new ResolvedService[count];
        for (int s = 0; s < count; s++) {
            Fixtures.PortBuilder builder = port("ns", "svc" + s, "", Protocol.TCP, "198.19.1." + (s + 1), 80);
            if (loadBalancer) {
                builder.externalIP("198.19.2." + (s + 1)).loadBalancerIP("198.19.3." + (s + 1)).sourceRange("203.0.113.0/28");
            }
            Endpoint[] eps = new Endpoint[endpoints];
            for (int e = 0; e < endpoints; e++) {
                eps[e] = endpoint("198.18." + s + "." + (e + 1), 8080);
            }
            result[s] = builder.resolve(eps);
        }
        return result;
    }

}
