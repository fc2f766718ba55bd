package io.kubeferry.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shipped jar's {@code run --proxy-mode nftables} start-up checks: without {@code nft} it exits 1 naming it,
 * before anything else; on this kernel (5.13 or later) the kernel check passes and start-up goes on to the
 * kubeconfig. (An older kernel's refusal is NftablesKernelCheckTest's, with a fake kernel release.)
 */
class NftablesStartCheckTest {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    private static final Path JAR = Path.of("..", "dist", "target", "kube-ferry.jar").toAbsolutePath().normalize();

    /**
     * nft hidden in a private mount namespace of the jar's process alone ({@code unshare -m}): /dev/null bound over
     * it is not executable, so the lookup finds no nft; the node's own mounts are never touched.
     */
    @Test
    void runWithoutNftFailsAtStartNamingIt() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "the shipped jar is built first: " + JAR);
        Path nft = Path.of("/usr/sbin/nft");
        assumeTrue(Files.isExecutable(nft), "nft is not at " + nft + ": cannot hide it");
        assumeTrue(NetnsTestBed.run(List.of("unshare", "--version")).exit() == 0, "needs util-linux's unshare");
        String node = BED.bareNamespace("nft-node");
        var run = CleanupNetnsTest.jar(List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount --bind /dev/null " + nft + " && exec \"$0\" \"$@\"", "ip", "netns", "exec", node),
                "run", "--proxy-mode", "nftables", "--hostname-override", "node-a", "--kubeconfig", "/nonexistent/kubeconfig");
        assertEquals(1, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains("proxy mode nftables needs nft, not found in"), run.err());
        assertFalse(run.err().contains("kubeconfig"), "it stopped before reading the kubeconfig: " + run.err());
        assertTrue(Files.isExecutable(nft), "nft is still there outside the test's mount namespace");
        System.out.println("run --proxy-mode nftables without nft: "
                + run.err().strip().lines().reduce((a, b) -> b).orElse(""));
    }

    @Test
    void onThisKernelTheKernelCheckPassesAndStartUpGoesOn() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "the shipped jar is built first: " + JAR);
        String release = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        String[] v = release.split("[.-]");
        assumeTrue(Integer.parseInt(v[0]) > 5 || (Integer.parseInt(v[0]) == 5 && Integer.parseInt(v[1]) >= 13),
                "this kernel (" + release + ") is older than 5.13: the pass cannot be shown here");
        String node = BED.bareNamespace("nft-ok-node");
        var run = CleanupNetnsTest.jar(List.of("ip", "netns", "exec", node), "run", "--proxy-mode", "nftables",
                "--hostname-override", "node-a", "--kubeconfig", "/nonexistent/kubeconfig");
        assertEquals(1, run.exit(), run.out() + run.err());
        assertFalse(run.err().contains("requires kernel"), "kernel " + release + " passes: " + run.err());
        assertFalse(run.err().contains("needs nft"), run.err());
        assertTrue(run.err().contains("kubeconfig"), "start-up went on past the checks to the kubeconfig: " + run.err());
    }
}
