package io.kubeferry.iptables;

import io.kubeferry.proxy.cli.Main;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.state.ObjectFiles;
import io.kubeferry.proxy.state.StaticState;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI's render prints exactly what the agent applies, and bad usage exits 2 naming the problem. */
class RenderCommandTest {

    private static final Path EXAMPLE = Path.of("../examples/cluster.yaml");

    private record Run(int code, String out, String err) {
    }

    private static synchronized Run cli(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void renderPrintsWhatTheAgentAppliesOnAFreshNode() throws Exception {
        Run run = cli("render", "--mode", "iptables", "--hostname-override", "node-a", "-f", EXAMPLE.toString());
        assertEquals(0, run.code(), run.err());

        FakeNetfilter kernel = new FakeNetfilter();
        kernel.setAddresses(List.of("127.0.0.1/8", "198.19.250.1/24"));
        IptablesDataplane dataplane = new IptablesDataplane(new DataplaneContext(
                ProxyConfig.defaults().withHostnameOverride("node-a"), kernel, new SimpleMeterRegistry()));
        dataplane.sync(SyncRequest.full(StaticState.of(ObjectFiles.read(EXAMPLE), "node-a", "")));
        assertEquals(kernel.commands("iptables-nft-restore").get(0).stdinText(), run.out());
        assertTrue(run.out().contains("\"shop/pending has no endpoints\""));
        assertTrue(!run.out().contains("shop/mesh") && !run.out().contains("shop/db"), "ignored Services are absent");
    }

    @Test
    void usageErrorsExitTwoAndNameTheProblem() {
        Run noInput = cli("render", "--hostname-override", "node-a");
        assertEquals(2, noInput.code());
        assertTrue(noInput.err().contains("render needs -f"), noInput.err());
        Run badMode = cli("render", "--mode", "userspace", "-f", EXAMPLE.toString());
        assertEquals(2, badMode.code());
        assertTrue(badMode.err().contains("mode: must be"), badMode.err());
        Run badCidr = cli("render", "--cluster-cidr", "198.18.0.0/99", "-f", EXAMPLE.toString());
        assertEquals(2, badCidr.code());
        assertTrue(badCidr.err().contains("clusterCIDR"), badCidr.err());
        Run missing = cli("render", "-f", "/nonexistent/kube-ferry.yaml");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no such file"), missing.err());
    }
}
