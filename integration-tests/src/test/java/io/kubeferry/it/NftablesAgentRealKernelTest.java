package io.kubeferry.it;

import io.kubeferry.proxy.config.ProxyConfig;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
