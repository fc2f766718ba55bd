package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.Fixtures;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.kubeferry.nftables.NftablesRendererTest.F;
import static io.kubeferry.nftables.NftablesRendererTest.T;
import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The applier over {@link FakeNftTools}: what reaches nft, and what it does after failures and lost state. */
class NftablesDataplaneTest {

    private final FakeNft nft = new FakeNft();
    private final FakeNftTools tools = new FakeNftTools(nft, List.of("127.0.0.1/8", "198.18.0.1/24"));
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong(1_000_000_000_000L);
    private final Dataplane dataplane = new NftablesDataplane(
            new DataplaneContext(ProxyConfig.defaults().withMode("nftables").withClusterCIDRs(List.of("198.18.0.0/16")), tools, metrics),
            clock::get);

    private static ProxyState state(String... endpoints) {
        return Fixtures.state(port("ns1", "web", "http", Protocol.TCP, "198.19.0.10", 80).nodePort(30080)
                .resolve(java.util.Arrays.stream(endpoints).map(ip -> endpoint(ip, 8080))
                        .toArray(io.kubeferry.proxy.model.Endpoint[]::new)));
    }

    private long nftRuns() {
        return tools.commands().stream().filter(c -> c.tool().equals("nft") && c.args().equals(List.of("-f", "-"))).count();
    }

    /**
     * "primary" is the Node object's first address, as upstream's, not the first the kernel lists (found by the
     * differential test: the node's pod bridge came first, and NodePorts on the node IP were refused).
     */
    @Test
    void nodePortsOpenOnTheNodeObjectsPrimaryAddress() throws DataplaneException {
        FakeNft kernel = new FakeNft();
        FakeNftTools bridged = new FakeNftTools(kernel, List.of("127.0.0.1/8", "198.18.0.1/24", "198.18.1.1/24"));
        Dataplane mode = new NftablesDataplane(new DataplaneContext(ProxyConfig.defaults().withMode("nftables"), bridged, metrics),
                clock::get);
        ProxyState withoutNode = state("198.18.0.2");
        mode.sync(SyncRequest.full(withoutNode));
        assertEquals(Set.of("198.18.0.1"), kernel.elements(F, T, "nodeport-ips").keySet());
        ProxyState withNode = new ProxyState(withoutNode.node().withAddresses(List.of("198.18.1.1")), withoutNode.services(), 1);
        mode.sync(new SyncRequest(withNode, Set.of(), false));
        assertEquals(Set.of("198.18.1.1"), kernel.elements(F, T, "nodeport-ips").keySet());
    }

    @Test
    void fullThenPartialThroughOneNftEach() throws DataplaneException {
        SyncResult first = dataplane.sync(SyncRequest.full(state("198.18.0.2")));
        assertTrue(first.full());
        assertEquals(1, nftRuns());
        // NodePorts on the primary address only (nodePortAddresses empty means primary in nftables mode), never loopback.
        assertEquals(Set.of("198.18.0.1"), nft.elements(F, T, "nodeport-ips").keySet());
        SyncResult partial = dataplane
                .sync(new SyncRequest(state("198.18.0.2", "198.18.0.3"), Set.of(Fixtures.name("ns1", "web", "http", Protocol.TCP)), false));
        assertFalse(partial.full());
        assertEquals(2, nftRuns());
        String sent = tools.commands().get(tools.commands().size() - 1).stdinText();
        assertFalse(sent.contains("filter-input"), sent);
        assertTrue(nft.rules(F, T, "service-" + NftNames.hashAndTruncate("ns1/web/tcp/http")).get(1).startsWith("numgen random mod 2"));
        // Nothing changed: nothing is sent at all.
        dataplane.sync(new SyncRequest(state("198.18.0.2", "198.18.0.3"), Set.of(), false));
        assertEquals(2, nftRuns());
    }

    @Test
    void aFailedSyncIsReportedAndTheNextStartsFromScratch() throws DataplaneException {
        dataplane.sync(SyncRequest.full(state("198.18.0.2")));
        tools.failNextTransaction("No buffer space available");
        DataplaneException e = assertThrows(DataplaneException.class,
                () -> dataplane
                        .sync(new SyncRequest(state("198.18.0.3"), Set.of(Fixtures.name("ns1", "web", "http", Protocol.TCP)), false)));
        assertTrue(e.getMessage().contains("No buffer space available"), e.getMessage());
        assertEquals(1.0, metrics.get("kubeproxy.sync.proxy.rules.nftables.sync.failures").counter().count());
        assertTrue(dataplane.sync(new SyncRequest(state("198.18.0.3"), Set.of(), false)).full());
        // Read back by name, the endpoint chain of the earlier run is flushed as stale.
        String old = "endpoint-" + NftNames.hashAndTruncate("ns1/web/tcp/http__198.18.0.2/8080");
        assertEquals(List.of(), nft.rules(F, T, old));
    }

    @Test
    void aFailedStaleChainDeleteIsRetriedFromTheKernel() throws DataplaneException {
        ServicePortName web = Fixtures.name("ns1", "web", "http", Protocol.TCP);
        dataplane.sync(SyncRequest.full(state("198.18.0.2", "198.18.0.3")));
        dataplane.sync(new SyncRequest(state("198.18.0.2"), Set.of(web), false));
        String stale = "endpoint-" + NftNames.hashAndTruncate("ns1/web/tcp/http__198.18.0.3/8080");
        assertTrue(nft.chains(F, T).contains(stale));
        clock.addAndGet(1_100_000_000L);
        tools.failNextTransaction("Device or resource busy");
        dataplane.sync(new SyncRequest(state("198.18.0.2"), Set.of(), false));
        assertEquals(1.0, metrics.get("kubeproxy.sync.proxy.rules.nftables.cleanup.failures").counter().count());
        assertTrue(nft.chains(F, T).contains(stale));
        // The next sync reads the chain back, flushes it as stale, and a later one deletes it.
        dataplane.sync(new SyncRequest(state("198.18.0.2"), Set.of(), false));
        clock.addAndGet(1_100_000_000L);
        dataplane.sync(new SyncRequest(state("198.18.0.2"), Set.of(), false));
        assertFalse(nft.chains(F, T).contains(stale));
    }

    @Test
    void aLostTableForcesAFullSync() throws DataplaneException {
        dataplane.sync(SyncRequest.full(state("198.18.0.2")));
        assertFalse(dataplane.kernelStateLost());
        nft.apply(new NftTransaction(F, T).delete(new NftObject.Table(null)));
        assertTrue(dataplane.kernelStateLost());
        assertTrue(dataplane.sync(new SyncRequest(state("198.18.0.2"), Set.of(), false)).full());
        assertTrue(nft.hasTable(F, T));
    }

    @Test
    void cleanupDeletesTheTable() throws DataplaneException {
        assertFalse(dataplane.hasLeftovers());
        assertEquals("nftables mode: nothing to remove", dataplane.cleanup().summary());
        dataplane.sync(SyncRequest.full(state("198.18.0.2")));
        assertTrue(dataplane.hasLeftovers());
        CleanupReport report = dataplane.cleanup();
        assertEquals("nftables mode: removed 1 table", report.summary());
        assertFalse(nft.hasTable(F, T));
    }

    @Test
    void registeredForModeNftables() {
        assertEquals(List.of("nft", "ip", "sysctl", "conntrack"), DataplaneProvider.forMode("nftables").requiredTools());
    }

    @Test
    void renderRunsNoTool() {
        String text = dataplane.render(SyncRequest.full(state("198.18.0.2")));
        assertTrue(text.startsWith("add table ip kube-proxy { comment \"rules for kube-proxy\" ; }\n"), text);
        assertEquals(List.<ToolCommand>of(), tools.commands());
    }
}
