package io.kubeferry.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * IPVS mode on a kernel without IPVS (this host's: CONFIG_IP_VS unset, no loadable modules): the shipped jar's
 * {@code run --proxy-mode ipvs} exits 1 at start, saying IPVS is missing and how to load it, instead of
 * retrying every sync. A typo in the scheduler fails before that, naming the field.
 */
class IpvsStartCheckTest {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    private static final Path JAR = Path.of("..", "dist", "target", "kube-ferry.jar").toAbsolutePath().normalize();

    @Test
    void runInIpvsModeWithoutIpvsInTheKernelFailsAtStartSayingHowToLoadIt() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "the shipped jar is built first: " + JAR);
        String node = BED.bareNamespace("ipvs-node");
        String scratch = BED.bareNamespace("ipvs-scratch");
        assumeTrue(NetnsTestBed.run(List.of("ip", "netns", "exec", node, "ipvsadm", "-Ln")).exit() != 0,
                "this kernel has IPVS: the no-IPVS start check cannot be shown here");

        var run = CleanupNetnsTest.jar(List.of("ip", "netns", "exec", scratch), "run", "--proxy-mode", "ipvs", "--netns", node,
                "--hostname-override", "node-a", "--kubeconfig", "/nonexistent/kubeconfig");
        assertEquals(1, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains("IPVS is not available in this kernel"), run.err());
        assertTrue(run.err().contains("modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack"), run.err());
        assertTrue(!run.err().contains("kubeconfig"), "it stopped before reading the kubeconfig: " + run.err());
        System.out.println("run --proxy-mode ipvs without IPVS: " + run.err().strip().lines().reduce((a, b) -> b).orElse(""));
    }

    @Test
    void anUnknownSchedulerFailsStartUpNamingTheField() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "the shipped jar is built first: " + JAR);
        String scratch = BED.bareNamespace("sched-scratch");
        var run = CleanupNetnsTest.jar(List.of("ip", "netns", "exec", scratch), "run", "--proxy-mode", "ipvs",
                "--ipvs-scheduler", "nonsense", "--hostname-override", "node-a", "--kubeconfig", "/nonexistent/kubeconfig");
        assertEquals(2, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains("ipvs.scheduler: unknown scheduler \"nonsense\"; known: rr, wrr, lc, wlc"), run.err());
    }
}
