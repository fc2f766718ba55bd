package io.kubeferry.iptables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolNotFoundException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dataplane against a fake kernel that interprets what it is fed. */
class IptablesDataplaneTest {

    private final FakeNetfilter kernel = new FakeNetfilter();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final IptablesDataplane dataplane = new IptablesDataplane(new DataplaneContext(
            ProxyConfig.defaults().withClusterCIDRs(List.of("198.18.0.0/16")), kernel, metrics));

    private final ResolvedService web = port("ns", "web", "", Protocol.TCP, "198.19.0.1", 80).nodePort(30001)
            .resolve(endpoint("198.18.0.2", 8080), endpoint("198.18.0.3", 8080));
    private final ResolvedService dns = port("ns", "dns", "", Protocol.UDP, "198.19.0.53", 53).resolve(endpoint("198.18.0.5", 53));

    private String svcChain(ResolvedService s) {
        return new ChainNames(10).of(s.name()).cluster();
    }

    @Test
    void firstSyncIsOneFullRestoreWithUpstreamFlags() throws Exception {
        SyncResult result = dataplane.sync(new SyncRequest(state(web, dns), Set.of(), false));
        assertTrue(result.full(), "the first sync is full whatever was asked");
        List<ToolCommand> restores = kernel.commands("iptables-nft-restore");
        assertEquals(1, restores.size());
        assertEquals(List.of("-w", "5", "-W", "100000", "--noflush", "--counters"), restores.get(0).args());
        assertNotNull(kernel.rules("nat", svcChain(web)));
        assertEquals(2, kernel.rules("nat", svcChain(web)).stream().filter(r -> r.contains("KUBE-SEP-")).count());
        assertTrue(kernel.rules("nat", "PREROUTING").get(0).endsWith("-j KUBE-SERVICES"), "jump rules installed");
        assertEquals(result.ruleCounts().get("nat"), natRules(), "the counts are the kernel's");
    }

    @Test
    void laterSyncsArePartialAndJumpRulesAreNotDuplicated() throws Exception {
        dataplane.sync(SyncRequest.full(state(web, dns)));
        ResolvedService web2 = port("ns", "web", "", Protocol.TCP, "198.19.0.1", 80).nodePort(30001).resolve(endpoint("198.18.0.3", 8080));
        SyncResult partial = dataplane.sync(new SyncRequest(state(web2, dns), Set.of(web2.name()), false));
        assertFalse(partial.full());
        String input = kernel.commands("iptables-nft-restore").get(1).stdinText();
        assertFalse(input.contains(svcChain(dns)), "unchanged Service not rewritten");
        assertEquals(1, kernel.rules("nat", svcChain(web)).stream().filter(r -> r.contains("KUBE-SEP-")).count());
        dataplane.sync(SyncRequest.full(state(web2, dns)));
        assertEquals(1, kernel.rules("nat", "PREROUTING").size(), "a full resync finds the jump rules and does not add them twice");
        assertEquals(partial.ruleCounts().get("nat"), natRules());
    }

    @Test
    void aFailedRestoreIsCountedAndTheNextSyncIsFull() throws Exception {
        dataplane.sync(SyncRequest.full(state(web)));
        kernel.failNext("iptables-nft-restore", "iptables-restore: line 7 failed");
        DataplaneException e = assertThrows(DataplaneException.class,
                () -> dataplane.sync(new SyncRequest(state(web, dns), Set.of(dns.name()), false)));
        assertTrue(e.getMessage().contains("line 7 failed"), e.getMessage());
        assertEquals(1.0, metrics.get("kubeproxy.sync.proxy.rules.iptables.restore.failures").counter().count());
        assertEquals(1.0, metrics.get("kubeproxy.sync.proxy.rules.iptables.partial.restore.failures").counter().count());
        SyncResult retry = dataplane.sync(new SyncRequest(state(web, dns), Set.of(), false));
        assertTrue(retry.full(), "after a failure the next sync is full");
        assertNotNull(kernel.rules("nat", svcChain(dns)));
    }

    @Test
    void aFlushedKernelIsNoticedByTheCanary() throws Exception {
        assertFalse(dataplane.kernelStateLost(), "nothing to lose before the first sync");
        dataplane.sync(SyncRequest.full(state(web)));
        assertFalse(dataplane.kernelStateLost());
        kernel.flushEverything();
        assertTrue(dataplane.kernelStateLost());
        SyncResult next = dataplane.sync(new SyncRequest(state(web), Set.of(), false));
        assertTrue(next.full());
        assertNotNull(kernel.rules("nat", svcChain(web)));
    }

    /** Upstream's large-cluster mode: the iptables-save listing runs at most once per syncPeriod. */
    @Test
    void aboveOneThousandEndpointsFullSyncsScanTheKernelAtMostOncePerSyncPeriod() throws Exception {
        io.kubeferry.proxy.model.Endpoint[] many = new io.kubeferry.proxy.model.Endpoint[1001];
        for (int i = 0; i < many.length; i++) {
            many[i] = endpoint("198.18." + (2 + i / 250) + "." + (i % 250 + 1), 8080);
        }
        ResolvedService big = port("ns", "big", "", Protocol.TCP, "198.19.0.9", 80).resolve(many);
        dataplane.sync(SyncRequest.full(state(big, web, dns)));
        assertEquals(1, scans(), "the first full sync lists the kernel");
        dataplane.sync(SyncRequest.full(state(big, web)));
        assertEquals(1, scans(), "a second full sync within syncPeriod does not");
        assertNull(kernel.rules("nat", svcChain(dns)), "a Service dropped since is still removed (its chains are ours)");
        kernel.flushEverything();
        assertTrue(dataplane.kernelStateLost());
        dataplane.sync(SyncRequest.full(state(big, web)));
        assertEquals(2, scans(), "after the kernel changed behind our back it is listed again");
        assertTrue(kernel.rules("nat", "PREROUTING").get(0).endsWith("-j KUBE-SERVICES"), "and the jumps are back");
    }

    @Test
    void smallClustersScanTheKernelOnEveryFullSync() throws Exception {
        dataplane.sync(SyncRequest.full(state(web, dns)));
        dataplane.sync(SyncRequest.full(state(web, dns)));
        assertEquals(2, scans());
    }

    private long scans() {
        return kernel.commands("iptables-nft-save").stream().filter(c -> c.args().isEmpty()).count();
    }

    @Test
    void staleChainsFromAPreviousRunAreDeleted() throws Exception {
        dataplane.sync(SyncRequest.full(state(web, dns)));
        IptablesDataplane restarted = new IptablesDataplane(
                new DataplaneContext(ProxyConfig.defaults(), kernel, new SimpleMeterRegistry()));
        restarted.sync(SyncRequest.full(state(web)));
        assertNull(kernel.rules("nat", svcChain(dns)), "dns went away while no agent ran: its chains are removed");
        assertNotNull(kernel.rules("nat", svcChain(web)));
    }

    @Test
    void cleanupRemovesEverythingAndLeftoversAreDetected() throws Exception {
        dataplane.sync(SyncRequest.full(state(web, dns)));
        assertTrue(dataplane.hasLeftovers());
        String before = kernel.run(ToolCommand.of("iptables-nft-save")).stdout();

        CleanupReport report = dataplane.cleanup();
        assertFalse(dataplane.hasLeftovers());
        String save = kernel.run(ToolCommand.of("iptables-nft-save")).stdout();
        // KUBE-FIREWALL is kubelet's chain (upstream creates its duplicate but never removes it in cleanup).
        assertFalse(save.lines().filter(l -> !l.contains("KUBE-FIREWALL")).anyMatch(l -> l.contains("KUBE-")), save);
        // The counts are what went: chains, and the rules in them plus the jumps into them from the built-in chains.
        long chains = kubeLines(before, ":") - kubeLines(save, ":");
        long rules = kubeLines(before, "-A ") - kubeLines(save, "-A ");
        assertTrue(chains > 0 && rules > chains, before);
        assertTrue(report.ok(), report.summary());
        assertEquals(chains, report.count(CleanupReport.CHAINS), before);
        assertEquals(rules, report.count(CleanupReport.RULES), before);
        assertEquals("iptables mode: removed " + chains + " chains, " + rules + " rules", report.summary());
        assertEquals("iptables mode: nothing to remove", dataplane.cleanup().summary(), "a second cleanup finds nothing");
    }

    /**
     * A node whose iptables mode had only Services without endpoints holds no per-Service chain, only the fixed
     * chains and REJECT rules: another mode starting there must still find it and clean it up.
     */
    @Test
    void leftoversWithoutAnyServiceChainAreDetected() throws Exception {
        ResolvedService empty = port("ns", "empty", "", Protocol.TCP, "198.19.0.9", 80).resolve();
        dataplane.sync(SyncRequest.full(state(empty)));
        assertTrue(kernel.run(ToolCommand.of("iptables-nft-save")).stdout().contains("198.19.0.9"), "the REJECT rule is there");
        assertTrue(dataplane.hasLeftovers(), "iptables mode's fixed chains count as leftovers");
        assertTrue(dataplane.cleanupNotUsedBy(Set.of()).ok());
        assertFalse(dataplane.hasLeftovers());
    }

    private static long kubeLines(String save, String prefix) {
        return save.lines().filter(l -> l.startsWith(prefix) && l.contains("KUBE-")).count();
    }

    @Test
    void cleanupCountsBothFlavoursAndKeepsTheSharedChains() throws Exception {
        kernel.run(IptablesTools.LEGACY.restoreCommand("*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n"
                + "-A PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -j KUBE-SVC-AAAAAAAAAAAAAAAA\nCOMMIT\n"));
        CleanupReport report = dataplane.cleanupNotUsedBy(Set.of("nat/KUBE-SERVICES"));
        assertEquals(1, report.count(CleanupReport.CHAINS), report.summary());
        assertEquals(1, report.count(CleanupReport.RULES), "the jump from the kept KUBE-SERVICES: " + report.summary());
        String legacy = kernel.run(ToolCommand.of("iptables-legacy-save")).stdout();
        assertTrue(legacy.contains(":KUBE-SERVICES") && legacy.contains("-A PREROUTING -j KUBE-SERVICES"), legacy);
        assertFalse(legacy.contains("KUBE-SVC-"), legacy);
    }

    @Test
    void aToolThatFailsIsAFailureInTheReportAndNothingIsClaimed() throws Exception {
        dataplane.sync(SyncRequest.full(state(web)));
        kernel.failNext("iptables-nft-save",
                "iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)");
        CleanupReport denied = dataplane.cleanup();
        assertFalse(denied.ok());
        assertEquals("iptables mode: removed nothing; failed: iptables-nft-save exited 1: iptables-nft-save v1.8.9 (nf_tables): "
                + "Could not fetch rule set generation id: Permission denied (you must be root)", denied.summary());
        assertTrue(dataplane.hasLeftovers(), "still there");

        kernel.failNext("iptables-nft-restore", "iptables-nft-restore: line 3 failed");
        CleanupReport restoreFailed = dataplane.cleanup();
        assertEquals(0, restoreFailed.count(CleanupReport.CHAINS), "an atomic restore that failed removed nothing");
        assertEquals(1, restoreFailed.failures().size(), restoreFailed.summary());
        assertTrue(
                restoreFailed.failures().get(0).startsWith("iptables-nft: ") && restoreFailed.failures().get(0).contains("line 3 failed"),
                restoreFailed.summary());
    }

    @Test
    void aFlavourWhoseToolsAreNotInstalledIsSkippedButNeitherIsAFailure() {
        ToolRunner nftOnly = new ToolRunner() {

            @Override
            public ToolResult run(ToolCommand command) throws ToolException {
                return check(command) ? kernel.run(command) : null;
            }

            @Override
            public ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
                return check(command) ? kernel.runAllowingFailure(command) : null;
            }

            private boolean check(ToolCommand command) throws ToolNotFoundException {
                if (command.tool().contains("legacy")) {
                    throw new ToolNotFoundException(command.tool(), "tool not found: " + command.tool());
                }
                return true;
            }
        };
        assertTrue(IptablesTools.removeChains("iptables", nftOnly, (t, c) -> true, Set.of()).ok());
        ToolRunner none = new ToolRunner() {

            @Override
            public ToolResult run(ToolCommand command) throws ToolException {
                throw new ToolNotFoundException(command.tool(), "tool not found: " + command.tool());
            }

            @Override
            public ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
                return run(command);
            }
        };
        CleanupReport report = IptablesTools.removeChains("iptables", none, (t, c) -> true, Set.of());
        assertEquals(List.of("neither iptables-nft-save nor iptables-legacy-save is installed: iptables rules not checked"),
                report.failures());
    }

    @Test
    void nodePortAddressesUseTheNodesMatchingAddresses() throws Exception {
        kernel.setAddresses(List.of("127.0.0.1/8", "198.18.0.1/24", "198.18.1.1/24"));
        IptablesDataplane scoped = new IptablesDataplane(new DataplaneContext(
                ProxyConfig.defaults().withNodePortAddresses(List.of("198.18.1.0/24")), kernel, new SimpleMeterRegistry()));
        scoped.sync(SyncRequest.full(state(web)));
        List<String> services = kernel.rules("nat", "KUBE-SERVICES");
        assertTrue(services.get(services.size() - 1).contains("-d 198.18.1.1 -j KUBE-NODEPORTS"), services.toString());
        assertFalse(services.stream().anyMatch(r -> r.contains("addrtype")));
        // As upstream: nodePortAddresses without 127.0.0.0/8 turn localhost NodePorts off, so route_localnet is
        // left alone and KUBE-FIREWALL (which must exist for the jumps) stays empty.
        assertNull(kernel.sysctl("net.ipv4.conf.all.route_localnet"));
        assertEquals(List.of(), kernel.rules("filter", "KUBE-FIREWALL"));
    }

    @Test
    void nfacctCountersAreCreatedCountedIntoAndExported() throws Exception {
        kernel.enableNfacct();
        dataplane.sync(SyncRequest.full(state(web, dns)));
        assertEquals(Set.of(NfacctCounters.CT_STATE_INVALID_DROPPED, NfacctCounters.LOCALHOST_NODEPORTS_ACCEPTED),
                kernel.nfacctCounters().keySet(), "both counters created, as upstream does on a full sync");
        assertEquals("-m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP",
                kernel.rules("filter", "KUBE-FORWARD").get(0));
        List<String> nodePorts = kernel.rules("nat", "KUBE-NODEPORTS");
        assertTrue(nodePorts.get(0).contains("-d 127.0.0.0/8 --dport 30001 -m nfacct --nfacct-name localhost_nps_accepted_pkts"),
                nodePorts.toString());
        assertFalse(nodePorts.get(1).contains("127.0.0.0/8"), "the catch-all comes second");

        kernel.countNfacct(NfacctCounters.CT_STATE_INVALID_DROPPED, 5);
        kernel.countNfacct(NfacctCounters.LOCALHOST_NODEPORTS_ACCEPTED, 2);
        dataplane.sync(new SyncRequest(state(web), Set.of(dns.name()), false));
        assertEquals(5.0, metrics.get("kubeproxy.iptables.ct.state.invalid.dropped.packets").functionCounter().count());
        assertEquals(2.0, metrics.get("kubeproxy.iptables.localhost.nodeports.accepted.packets").functionCounter().count());
    }

    @Test
    void aRestoreThatRejectsTheNfacctMatchTurnsTheCountersOff() throws Exception {
        kernel.enableNfacct();
        kernel.failNext("iptables-nft-restore",
                "iptables-nft-restore: line 19 failed: Couldn't load match `nfacct':No such file or directory");
        assertThrows(DataplaneException.class, () -> dataplane.sync(SyncRequest.full(state(web))));
        dataplane.sync(SyncRequest.full(state(web)));
        assertEquals("-m conntrack --ctstate INVALID -j DROP", kernel.rules("filter", "KUBE-FORWARD").get(0),
                "the retry goes without the counters");
    }

    @Test
    void aFailedRestoreIsPutOnTheNfacctMatchOnlyWhenItsLineHasOne() {
        String program = "*filter\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name x -j DROP\nCOMMIT\n";
        assertTrue(IptablesDataplane.rejectedNfacct(program, "iptables-restore: line 2 failed"));
        assertFalse(IptablesDataplane.rejectedNfacct(program, "iptables-restore: line 3 failed"));
        assertFalse(IptablesDataplane.rejectedNfacct(program, "Another app is currently holding the xtables lock"));
        assertFalse(IptablesDataplane.rejectedNfacct("*filter\nCOMMIT\n", "nfacct"), "no nfacct rule, not nfacct's fault");
    }

    @Test
    void withoutNfacctTheRulesDoNotCountAndItIsProbedOnce() throws Exception {
        dataplane.sync(SyncRequest.full(state(web)));
        dataplane.sync(SyncRequest.full(state(web, dns)));
        assertEquals("-m conntrack --ctstate INVALID -j DROP", kernel.rules("filter", "KUBE-FORWARD").get(0));
        assertFalse(kernel.rules("nat", "KUBE-NODEPORTS").stream().anyMatch(r -> r.contains("nfacct")));
        assertEquals(1, kernel.commands("nfacct").size(), "a node without nfacct is found out once");
        assertNull(metrics.find("kubeproxy.iptables.ct.state.invalid.dropped.packets").meter());
    }

    @Test
    void aCounterThatCannotBeCreatedIsLeftOutOfTheRules() throws Exception {
        kernel.enableNfacct();
        kernel.failNext("nfacct", "nfacct v1.0.2: error: Operation not permitted");
        dataplane.sync(SyncRequest.full(state(web)));
        assertEquals(Set.of(), kernel.nfacctCounters().keySet());
        assertFalse(kernel.rules("filter", "KUBE-FORWARD").stream().anyMatch(r -> r.contains("nfacct")));
    }

    @Test
    void localhostNodePortsOnWriteUpstreamsLocalnetGuardAndJumps() throws Exception {
        dataplane.sync(SyncRequest.full(state(web)));
        assertEquals(List.of("-m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 ! -s 127.0.0.0/8 "
                + "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP"), kernel.rules("filter", "KUBE-FIREWALL"));
        assertEquals("-j KUBE-FIREWALL", kernel.rules("filter", "INPUT").get(0));
        assertEquals("-j KUBE-FIREWALL", kernel.rules("filter", "OUTPUT").get(0));
        assertEquals("1", kernel.sysctl("net.ipv4.conf.all.route_localnet"));
        dataplane.sync(SyncRequest.full(state(web)));
        assertEquals(1, kernel.rules("filter", "INPUT").stream().filter(r -> r.equals("-j KUBE-FIREWALL")).count(),
                "a second full sync finds the jump and does not add another");
    }

    @Test
    void localhostNodePortsOffLeaveKubeletsChainAndRouteLocalnetAlone() throws Exception {
        // kubelet got there first: its chain, rule and jumps.
        kernel.run(ToolCommand.of("iptables-nft-restore", "--noflush").withStdin("*filter\n:KUBE-FIREWALL - [0:0]\n"
                + "-A KUBE-FIREWALL -m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 ! -s 127.0.0.0/8 "
                + "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n-I INPUT -j KUBE-FIREWALL\nCOMMIT\n"));
        ProxyConfig defaults = ProxyConfig.defaults();
        ProxyConfig.Iptables off = new ProxyConfig.Iptables(false, 14, false, defaults.iptables().syncPeriod(),
                defaults.iptables().minSyncPeriod());
        IptablesDataplane noLocalhost = new IptablesDataplane(new DataplaneContext(defaults.withIptables(off), kernel, metrics));
        noLocalhost.sync(SyncRequest.full(state(web)));
        assertEquals(1, kernel.rules("filter", "KUBE-FIREWALL").size(), "kubelet's rule is not flushed");
        assertEquals(1, kernel.rules("filter", "INPUT").stream().filter(r -> r.equals("-j KUBE-FIREWALL")).count());
        assertEquals("-j KUBE-FIREWALL", kernel.rules("filter", "OUTPUT").get(0), "the missing jump is added");
        assertNull(kernel.sysctl("net.ipv4.conf.all.route_localnet"));
        assertTrue(kernel.rules("nat", "KUBE-SERVICES").stream()
                .anyMatch(r -> r.contains("--dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS")));
    }

    @Test
    void localhostNodePortsFollowUpstreamsNodePortAddressesRule() {
        ProxyConfig on = ProxyConfig.defaults();
        assertTrue(IptablesDataplane.localhostNodePorts(on));
        assertTrue(IptablesDataplane.localhostNodePorts(on.withNodePortAddresses(List.of("127.0.0.0/8", "198.18.0.0/24"))));
        assertTrue(IptablesDataplane.localhostNodePorts(on.withNodePortAddresses(List.of("0.0.0.0/0"))));
        assertTrue(IptablesDataplane.localhostNodePorts(on.withNodePortAddresses(List.of("fd00::/64"))), "no IPv4 CIDR means 0.0.0.0/0");
        assertFalse(IptablesDataplane.localhostNodePorts(on.withNodePortAddresses(List.of("198.18.0.0/24"))));
        assertFalse(IptablesDataplane.localhostNodePorts(on.withNodePortAddresses(List.of("primary"))));
    }

    @Test
    void renderTouchesNothing() {
        ProxyState s = state(web, dns);
        String text = dataplane.render(SyncRequest.full(s));
        assertTrue(text.contains(svcChain(web)));
        assertEquals(0, kernel.commands().size());
    }

    private int natRules() {
        return kernel.chains("nat").stream().filter(c -> c.startsWith("KUBE-")).mapToInt(c -> kernel.rules("nat", c).size()).sum();
    }
}
