package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.state.ObjectFiles;
import io.kubeferry.proxy.state.StaticState;
import io.kubeferry.proxy.testing.Cli;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kube-ferry render --mode nftables} prints what the agent's first sync sends to {@code nft -f -}. */
class RenderCommandTest {

    private static final Path EXAMPLE = Path.of("../examples/cluster.yaml");

    @Test
    void renderPrintsWhatTheAgentAppliesOnAFreshNode() throws Exception {
        Cli.Run run = Cli.run("render", "--mode", "nftables", "--hostname-override", "node-a", "--node-ip", "198.19.250.1",
                "-f", EXAMPLE.toString());
        assertEquals(0, run.code(), run.err());

        FakeNft nft = new FakeNft();
        FakeNftTools tools = new FakeNftTools(nft, List.of("127.0.0.1/8", "198.19.250.1/24"));
        NftablesDataplane dataplane = new NftablesDataplane(new DataplaneContext(
                ProxyConfig.defaults().withMode("nftables").withHostnameOverride("node-a"), tools, new SimpleMeterRegistry()));
        dataplane.sync(SyncRequest.full(StaticState.of(ObjectFiles.read(EXAMPLE), "node-a", "")));
        String sent = tools.commands().stream().filter(c -> c.args().equals(List.of("-f", "-"))).map(ToolCommand::stdinText)
                .findFirst().orElseThrow();
        String header = NftGolden.header(run.out());
        assertTrue(header.contains("nft -f -") && header.contains("ip kube-proxy"), header);
        assertEquals(sent, run.out().substring(header.length()), "after the header comes exactly what the agent applies");
        assertTrue(run.out().contains("comment \"shop/pending\" : goto reject-chain"), run.out());
        assertEquals("", run.err());
    }
}
