package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.testing.Cli;
import io.kubeferry.proxy.testing.FakeNetfilter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cleanup that cannot act exits 1 naming why, and touches nothing (the backends' reports are tested with them). */
class CleanupCommandTest {

    @Test
    void aCleanupThatCannotActExitsOneNamingEveryReasonAndRunsNoTool(@TempDir Path netnsDir) {
        FakeNetfilter kernel = new FakeNetfilter();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CleanupCommand.cleanup(ProxyConfig.defaults().withNetns("gone"), null,
                new CleanupChecks(() -> OptionalInt.of(1000), netnsDir), kernel, new PrintWriter(out), new PrintWriter(err));
        assertEquals(1, code);
        assertEquals("", out.toString(), "no removal claimed");
        assertEquals("""
                kube-ferry: cleanup: cleanup needs root (effective uid 0) to change netfilter and IPVS state; running as uid 1000
                kube-ferry: cleanup: network namespace "gone" does not exist (no %s)
                kube-ferry: cleanup: nothing was removed
                """.formatted(netnsDir.resolve("gone")), err.toString());
        assertTrue(kernel.commands().isEmpty(), "no tool ran: " + kernel.commands());
    }

    @Test
    void theCommandLineNamesAMissingNamespace() {
        Cli.Run run = Cli.run("cleanup", "--netns", "kf-no-such-namespace", "--hostname-override", "node-a");
        int code = run.code();
        String err = run.err();
        assertEquals(1, code, err);
        assertTrue(err.contains("network namespace \"kf-no-such-namespace\" does not exist"), err);
    }
}
