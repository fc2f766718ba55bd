package io.kubeferry.it;

import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDRBuilder;
import io.kubeferry.proxy.config.ProxyConfig;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.kubeferry.it.Traffic.answers;
import static io.kubeferry.it.Traffic.awaitAnswer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real-kernel cases ({@link RealKernelAgentCases}) in nftables mode ({@code table ip kube-proxy}), and switching
 * between it and iptables mode on a live node.
 */
class NftablesAgentRealKernelTest extends RealKernelAgentCases {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    NftablesAgentRealKernelTest() {
        super(BED);
    }

    @Override
    void assumeMode() throws Exception {
        assumeTrue(NetnsTestBed.run(List.of("nft", "--version")).exit() == 0,
                "nftables mode needs the nft command (dev/setup.sh installs it)");
    }

    /**
     * NodePorts on the client-facing address: nftables mode opens them on the node's primary address only when
     * nodePortAddresses is unset (as upstream), and the bed's first address is the pod bridge's.
     */
    @Override
    ProxyConfig config() {
        return nftables(BedAgent.quick(BED));
    }

    private static ProxyConfig nftables(ProxyConfig base) {
        return base.withMode("nftables").withNodePortAddresses(List.of(NetnsTestBed.NODE_EXTERNAL_IP + "/32"));
    }

    @Override
    void assertProgrammed() throws Exception {
        String table = BED.exec(BED.nodeNs(), "nft", "list", "table", "ip", "kube-proxy");
        assertTrue(table.contains("chain service-"), "nftables mode's Service chains present before cleanup:\n" + table);
    }

    /** The table's handle: a restart converges from what it reads back, it does not delete and re-add the table. */
    @Override
    String keptAcrossRestart() throws Exception {
        // Its first line: "table ip kube-proxy { # handle N".
        return BED.exec(BED.nodeNs(), "nft", "-a", "list", "table", "ip", "kube-proxy").lines().findFirst().orElse("");
    }

    /**
     * The restarted agent read the table back and took it over: its first sync (the same objects) wrote (almost)
     * nothing, where the code before the read-back refilled every chain and map.
     */
    @Override
    void assertRestartWroteLittle() {
        double takenOver = agent.registry().get("kubeferry.nftables.start.readback").tag("outcome", "taken-over").counter().count();
        assertEquals(1, takenOver, "the new agent's first sync took the table over");
        assertTrue(agent.lastResult().bytesWritten() < 1_000,
                "same objects, (almost) nothing written: " + agent.lastResult().bytesWritten() + " bytes");
    }

    /**
     * Someone's {@code nft flush ruleset} while the agent runs: the canary (mark-for-masquerade gone) makes the next
     * sync a full refill, and traffic to the ClusterIP answers again without a restart.
     */
    @Test
    @Order(10)
    void flushRulesetWhileRunningLeadsToAFullResyncAndWorkingTraffic() throws Exception {
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("ClusterIP answers before the flush", () -> c.tcp("198.19.0.10", 80), a -> a.startsWith("pod-"));
        int syncs = agent.successfulSyncs();
        BED.exec(BED.nodeNs(), "nft", "flush", "ruleset");
        assertFalse(BED.exec(BED.nodeNs(), "nft", "list", "tables").contains("kube-proxy"), "the table is gone");
        // The canary runs every sync period (30 s here); then the full sync.
        long deadline = System.currentTimeMillis() + 90_000;
        String answer = "";
        while (System.currentTimeMillis() < deadline && !(answer = c.tcp("198.19.0.10", 80)).startsWith("pod-")) {
            Thread.sleep(250);
        }
        assertTrue(answer.startsWith("pod-"), "the ClusterIP answers again after the resync: " + answer);
        assertTrue(agent.successfulSyncs() > syncs, "a sync ran after the flush");
        // The table came back whole, maps filled: a sync from scratch (a partial one would have written nothing).
        assertProgrammed();
        String serviceIPs = BED.exec(BED.nodeNs(), "nft", "list", "map", "ip", "kube-proxy", "service-ips");
        for (String vip : List.of("198.19.0.10", "198.19.0.53", "198.19.0.70", "198.19.0.80", "198.19.0.90", "198.19.1.100")) {
            assertTrue(serviceIPs.contains(vip + " . "), vip + " is back in service-ips:\n" + serviceIPs);
        }
        assertEquals(Set.of("pod-1"), Traffic.answers(20, () -> c.tcp("198.19.0.10", 80)), "the web Service's one endpoint answers");
    }

    /**
     * iptables -> nftables -> iptables -> nftables with connections every 20 ms all along: each agent's first sync
     * takes over before the other mode's state goes, the NodePort answers, and nothing of the other mode is left
     * ({@link ModeLeftovers}: no KUBE-* chain of iptables mode's in either iptables flavour in nftables mode, no
     * {@code table ip kube-proxy} in iptables mode).
     */
    @Test
    @Order(9)
    void togglingIptablesAndNftablesUnderTrafficFailsNoConnectionAndLeavesNothingBehind() throws Exception {
        CompletableFuture<String> traffic = trafficLoop(16_000);
        Thread.sleep(500);
        for (String mode : List.of("iptables", "nftables", "iptables", "nftables")) {
            BedAgent.stop(agent);
            agent = start(mode.equals("nftables") ? config() : BedAgent.quick(BED));
            awaitFirstSync();
            assertTrue(agent.successfulSyncs() > 0, mode + " agent synced");
            // The other mode's state goes right after the first sync, on the same worker: poll until it has.
            long deadline = System.currentTimeMillis() + 20_000;
            AssertionError last = null;
            do {
                try {
                    if (mode.equals("nftables")) {
                        assertProgrammed();
                    } else {
                        assertTrue(BED.exec(BED.nodeNs(), "iptables-nft-save").contains("KUBE-SVC-"), "iptables mode programmed");
                    }
                    assertEquals(List.of(), ModeLeftovers.parse(BED.stdout(BED.nodeNs(), "sh", "-c", ModeLeftovers.script(""))).of(mode),
                            "the other mode's state");
                    last = null;
                } catch (AssertionError e) {
                    last = e;
                    Thread.sleep(100);
                }
            } while (last != null && System.currentTimeMillis() < deadline);
            if (last != null) {
                throw new AssertionError("after switching to " + mode + ": " + last.getMessage(), last);
            }
            // The loop below goes to the ClusterIP; the NodePort must have come across too.
            assertTrue(BED.client().tcp(NetnsTestBed.NODE_EXTERNAL_IP, 30080).startsWith("pod-"), mode + " mode's NodePort answers");
        }
        String result = traffic.get(40, TimeUnit.SECONDS);
        System.out.println("toggle iptables -> nftables -> iptables -> nftables under traffic: " + result);
        assertTrue(result.startsWith("ok ") && result.endsWith(" failed 0"), "no failed connection across the switches: " + result);
        assertTrue(Integer.parseInt(result.split("\\s+")[1]) > 100, "traffic flowed all along: " + result);
    }

    /**
     * A ServiceCIDR makes every address in it that no Service holds a dead end: dropped (upstream's second
     * {@code cluster-ips-check} rule), so a client times out rather than being refused or reaching anything. The
     * bed's one address that answers without the rule is a pod's, so this ServiceCIDR holds pod-2's address alone:
     * reached directly before, silent while the ServiceCIDR exists, reached again once it is deleted. (iptables and
     * IPVS modes do not read ServiceCIDRs, as upstream's.)
     */
    @Test
    @Order(10)
    void anAddressInsideAServiceCIDRThatNoServiceHoldsIsDropped() throws Exception {
        NetnsTestBed.Client c = BED.client();
        String pod = pod2.ip();
        awaitAnswer("pod-2 reached directly", () -> c.tcp(pod, 8080), "pod-2"::equals);
        ServiceCIDR cidr = new ServiceCIDRBuilder().withNewMetadata().withName("pod-2-as-services").endMetadata().withNewSpec()
                .withCidrs(pod + "/32").endSpec().build();
        client.resource(cidr).create();
        try {
            awaitAnswer("the drop rule programmed", () -> c.tcp(pod, 8080), "TIMEOUT"::equals);
            assertEquals(Set.of("TIMEOUT"), answers(2, () -> c.tcp(pod, 8080)), "dropped, every time");
            String chain = BED.exec(BED.nodeNs(), "nft", "list", "chain", "ip", "kube-proxy", "cluster-ips-check");
            assertTrue(chain.contains("ip daddr " + pod + " drop comment \"Drop traffic to unallocated ClusterIPs\""), chain);
        } finally {
            client.resource(cidr).delete();
        }
        awaitAnswer("the rule gone with the ServiceCIDR", () -> c.tcp(pod, 8080), "pod-2"::equals);
    }
}
