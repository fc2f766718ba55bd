package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.AnsweredTools;
import io.kubeferry.proxy.testing.Fixtures;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static io.kubeferry.nftables.NftablesRendererTest.F;
import static io.kubeferry.nftables.NftablesRendererTest.T;
import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A restarted agent's first sync (issue 12 item 3): a new {@link NftablesDataplane} over the {@link FakeNft} an earlier
 * one programmed reads the table back and writes only what differs; a table it did not lay out is refilled whole.
 */
class NftTakeoverTest {

    private final FakeNft nft = new FakeNft();
    private final FakeNftTools tools = new FakeNftTools(nft, List.of("127.0.0.1/8", "192.168.0.2/24"));
    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private SimpleMeterRegistry metrics = new SimpleMeterRegistry();

    private static final ProxyConfig CONFIG = ProxyConfig.defaults().withMode("nftables").withClusterCIDRs(List.of("10.0.0.0/8"));

    /** Upstream's overall test objects: ClusterIP, NodePort, LB with source ranges and affinity, ETP Local, no endpoints. */
    static ProxyState state(String svc1Endpoint) {
        ResolvedService[] ports = NftablesRendererTest.upstreamOverall();
        ports[0] = port("ns1", "svc1", "p80", Protocol.TCP, "172.30.0.41", 80).resolve(endpoint(svc1Endpoint, 80));
        // Two endpoints with affinity, and a one-address source range (the kernel lists it without its /32).
        ports[4] = port("ns5", "svc5", "p80", Protocol.TCP, "172.30.0.45", 80).nodePort(3002).loadBalancerIP("5.6.7.8")
                .sourceRange("203.0.113.0/25").sourceRange("192.0.2.7/32").sticky(10800)
                .resolve(endpoint("10.180.0.3", 80), endpoint("10.180.0.6", 80));
        return Fixtures.state(ports);
    }

    private NftablesDataplane agent(ToolRunner runner) {
        metrics = new SimpleMeterRegistry();
        return new NftablesDataplane(new DataplaneContext(CONFIG, runner, metrics), clock::get);
    }

    /** The text of the last {@code nft -f -} the tools ran, "" when the sync wrote nothing. */
    private String lastWrite(int commandsBefore) {
        return tools.commands().stream().skip(commandsBefore).filter(c -> c.args().equals(List.of("-f", "-"))).map(ToolCommand::stdinText)
                .reduce((a, b) -> b).orElse("");
    }

    private double outcome(String which) {
        return metrics.get("kubeferry.nftables.start.readback").tag("outcome", which).counter().count();
    }

    @Test
    void restartWithTheSameStateWritesNothing() throws DataplaneException {
        SyncResult first = agent(tools).sync(SyncRequest.full(state("10.180.0.1")));
        assertTrue(first.bytesWritten() > 5_000, "the first start fills the table: " + first.bytesWritten());
        assertEquals(1, outcome("no-table"));
        String before = nft.dump(F, T);
        int applied = nft.applied();

        NftablesDataplane restarted = agent(tools);
        int commands = tools.commands().size();
        SyncResult again = restarted.sync(SyncRequest.full(state("10.180.0.1")));
        assertTrue(again.full(), "the first sync after a start is a full one (everything compared)");
        assertEquals(0, again.bytesWritten(), "nothing differs, nothing is written: " + lastWrite(commands));
        assertEquals(applied, nft.applied(), "no transaction at all");
        assertEquals(before, nft.dump(F, T));
        assertEquals(1, outcome("taken-over"));
        assertTrue(tools.commands().stream().skip(commands).anyMatch(c -> c.args().equals(List.of("-j", "list", "table", F, T))),
                "read back with nft -j list table");

        // And it goes on from the memory it built: a change is a partial sync again.
        SyncResult partial = restarted.sync(new SyncRequest(state("10.180.0.9"), Set.of(Fixtures.name("ns1", "svc1", "p80", Protocol.TCP)),
                false));
        assertFalse(partial.full());
    }

    @Test
    void restartWithOneServiceChangedWritesOnlyThatService() throws DataplaneException {
        agent(tools).sync(SyncRequest.full(state("10.180.0.1")));
        NftablesDataplane restarted = agent(tools);
        int commands = tools.commands().size();
        SyncResult first = restarted.sync(SyncRequest.full(state("10.180.0.9")));
        String written = lastWrite(commands);
        assertFalse(written.isEmpty());
        // The chain-block form: a block's rule lines belong to the chain its opening line names.
        boolean inBlock = false;
        for (String line : written.split("\n")) {
            if (inBlock) {
                inBlock = !line.equals("}");
                continue;
            }
            assertTrue(line.contains("ns1/svc1"), "only svc1's chains are written: " + line + "\n" + written);
            inBlock = line.endsWith("{");
        }
        assertTrue(written.contains("dnat to 10.180.0.9:80"), written);
        assertTrue(written.contains("flush chain ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"),
                "the old endpoint's chain is flushed as stale: " + written);
        assertTrue(first.bytesWritten() < 1_000, "a few lines: " + first.bytesWritten());

        // A second later the stale chain goes; the table is then what a fresh start with the new state makes.
        clock.addAndGet(2_000_000_000L);
        restarted.sync(new SyncRequest(state("10.180.0.9"), Set.of(), false));
        FakeNft fresh = new FakeNft();
        new NftablesDataplane(new DataplaneContext(CONFIG, new FakeNftTools(fresh, List.of("127.0.0.1/8", "192.168.0.2/24")),
                new SimpleMeterRegistry()), clock::get).sync(SyncRequest.full(state("10.180.0.9")));
        assertEquals(fresh.dump(F, T), nft.dump(F, T));
    }

    @Test
    void upstreamKubeProxysTableIsRefilledWhole() throws IOException, DataplaneException {
        nft.apply(NftScript.parse(NftGolden.canonical(Files.readString(Path.of("src/test/resources/upstream/overall.txt")))));
        NftablesDataplane taking = agent(tools);
        int commands = tools.commands().size();
        taking.sync(SyncRequest.full(state("10.180.0.1")));
        assertEquals(1, outcome("full-refill"));
        assertTrue(lastWrite(commands).contains("delete chain ip kube-proxy filter-input"), "today's fresh refill");
        assertEquals(freshDump(), nft.dump(F, T).replaceAll("(?m)^add chain ip kube-proxy [^\n]*/[^\n]*\n", ""),
                "taken over cleanly: the same table as a fresh start's (upstream's chains flushed, deleted later)");
    }

    @Test
    void aBaseChainAtAnotherPriorityIsRefilledWhole() throws DataplaneException {
        agent(tools).sync(SyncRequest.full(state("10.180.0.1")));
        NftTransaction older = new NftTransaction(F, T);
        older.flush(NftObject.Chain.regular("filter-input")).delete(NftObject.Chain.regular("filter-input"))
                .add(NftObject.Chain.base("filter-input", "filter", "input", 10));
        nft.apply(older);
        int commands = tools.commands().size();
        agent(tools).sync(SyncRequest.full(state("10.180.0.1")));
        assertEquals(1, outcome("full-refill"));
        assertTrue(lastWrite(commands).contains("delete chain ip kube-proxy filter-input"), lastWrite(commands));
        assertEquals(0, nft.chain(F, T, "filter-input").base().priority());
    }

    @Test
    void aListingThatCannotBeParsedIsRefilledWhole() throws DataplaneException {
        agent(tools).sync(SyncRequest.full(state("10.180.0.1")));
        ToolRunner garbled = answering(List.of("-j", "list", "table", F, T), "{\"nftables\": [");
        int commands = tools.commands().size();
        agent(garbled).sync(SyncRequest.full(state("10.180.0.1")));
        assertEquals(1, outcome("full-refill"));
        assertTrue(lastWrite(commands).contains("flush map ip kube-proxy service-ips"), "the atomic refill");
    }

    /** A table of more than READ_BACK_MAX_CHAINS chains is refilled, not read back (reading it costs more). */
    @Test
    void aTableTooLargeToReadBackIsRefilledWhole() throws DataplaneException {
        agent(tools).sync(SyncRequest.full(state("10.180.0.1")));
        StringBuilder many = new StringBuilder("table ip kube-proxy {\n");
        for (int i = 0; i <= NftTakeover.READ_BACK_MAX_CHAINS; i++) {
            many.append("\tchain c").append(i).append(" {\n\t}\n");
        }
        String listing = many.append("}\n").toString();
        ToolRunner large = answering(List.of("list", "chains", "ip"), listing);
        int commands = tools.commands().size();
        agent(large).sync(SyncRequest.full(state("10.180.0.1")));
        assertEquals(1, outcome("full-refill"));
        assertFalse(tools.commands().stream().skip(commands).anyMatch(c -> c.args().get(0).equals("-j")), "not listed as JSON");
    }

    /**
     * The canary: the table deleted behind the agent's back (a flushed ruleset, the case operators meet) makes the next
     * sync full. {@code nft flush table} is not seen by it: the kernel keeps every set and map then (nft 1.0.6, kernel
     * 6.18) and only the rules go, which only a chain listing shows (230 ms at 10,000 Services on every check); the
     * hourly full sync rewrites such a table.
     */
    @Test
    void aDeletedTableMakesTheNextSyncFull() throws DataplaneException {
        NftablesDataplane running = agent(tools);
        running.sync(SyncRequest.full(state("10.180.0.1")));
        String programmed = nft.dump(F, T);
        assertFalse(running.kernelStateLost());
        for (NftObject.Table lost : List.of(new NftObject.Table(null))) {
            for (NftTransaction.Verb verb : List.of(NftTransaction.Verb.DELETE)) {
                nft.apply(new NftTransaction(F, T).op(verb, lost));
                assertTrue(running.kernelStateLost(), verb + " table: the canary sees it");
                SyncResult again = running.sync(new SyncRequest(state("10.180.0.1"), Set.of(), false));
                assertTrue(again.full(), verb + " table: the next sync is full");
                assertEquals(programmed, nft.dump(F, T), verb + " table: everything is back");
            }
        }
    }

    /** The fake's tools, except that {@code nft ARGS} prints {@code stdout}. */
    private ToolRunner answering(List<String> args, String stdout) {
        return AnsweredTools.of(tools,
                command -> command.args().equals(args) ? new ToolResult(0, stdout, "") : tools.runAllowingFailure(command));
    }

    private String freshDump() throws DataplaneException {
        FakeNft fresh = new FakeNft();
        new NftablesDataplane(new DataplaneContext(CONFIG, new FakeNftTools(fresh, List.of("127.0.0.1/8", "192.168.0.2/24")),
                new SimpleMeterRegistry()), clock::get).sync(SyncRequest.full(state("10.180.0.1")));
        return fresh.dump(F, T).replaceAll("(?m)^add chain ip kube-proxy [^\n]*/[^\n]*\n", "");
    }
}
