package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.testing.Fixtures;
import io.kubeferry.proxy.testing.trace.Outcome;
import io.kubeferry.proxy.testing.trace.Packet;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The state's ServiceCIDRs in nftables mode: upstream's second {@code cluster-ips-check} rule, written from them on
 * a full sync (and a change of them makes the sync full), none without them; a packet to an address inside one that
 * no Service holds is dropped, one to a ClusterIP's unused port still rejected.
 */
class NftablesServiceCIDRTest {

    private static final String DROP_COMMENT = " comment \"Drop traffic to unallocated ClusterIPs\"";

    private final FakeNft nft = new FakeNft();
    private final FakeNftTools tools = new FakeNftTools(nft, List.of("127.0.0.1/8", "198.18.0.1/24"));
    private final Dataplane dataplane = new NftablesDataplane(
            new DataplaneContext(ProxyConfig.defaults().withMode("nftables").withClusterCIDRs(List.of("198.18.0.0/16")), tools,
                    new SimpleMeterRegistry()),
            () -> 0L);

    private static ProxyState state(String... serviceCIDRs) {
        ProxyState services = Fixtures
                .state(port("ns1", "web", "http", Protocol.TCP, "198.19.0.10", 80).resolve(endpoint("198.18.0.2", 8080)));
        return new ProxyState(services.node(), services.services(), 1, List.of(serviceCIDRs).stream().map(Cidr::parse).toList());
    }

    private List<String> clusterIPsCheck() {
        return nft.rules(F, T, NftablesRenderer.CLUSTER_IPS_CHECK);
    }

    private static SyncRequest partial(ProxyState state) {
        return new SyncRequest(state, Set.of(), false);
    }

    @Test
    void theDropRuleFollowsTheStatesServiceCIDRs() throws DataplaneException {
        dataplane.sync(SyncRequest.full(state()));
        assertEquals(List.of("ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\""), clusterIPsCheck(),
                "no ServiceCIDRs: no drop rule, as upstream");

        // A ServiceCIDR arriving is no Service change, yet the rule is rewritten: the dataplane goes full by itself.
        assertTrue(dataplane.sync(partial(state("10.96.0.0/12", "198.19.0.0/16"))).full());
        assertEquals("ip daddr { 10.96.0.0/12,198.19.0.0/16 } drop" + DROP_COMMENT, clusterIPsCheck().get(1));

        int sent = tools.commands().size();
        assertFalse(dataplane.sync(partial(state("10.96.0.0/12", "198.19.0.0/16"))).full(), "unchanged: a partial sync");
        assertEquals(sent, tools.commands().size(), "and nothing written");

        assertTrue(dataplane.sync(partial(state("198.19.0.0/16"))).full());
        assertEquals(List.of("ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"",
                "ip daddr { 198.19.0.0/16 } drop" + DROP_COMMENT), clusterIPsCheck());
        assertTrue(dataplane.sync(partial(state())).full());
        assertEquals(1, clusterIPsCheck().size(), "the last ServiceCIDR gone: the rule with it");
    }

    @Test
    void renderShowsTheRuleToo() {
        String text = dataplane.render(SyncRequest.full(state("198.19.0.0/16")));
        // The chain-block form sync applies: the rule inside cluster-ips-check's block.
        int block = text.indexOf("add chain ip kube-proxy cluster-ips-check {");
        assertTrue(block >= 0, text);
        assertTrue(text.substring(block, text.indexOf("\n}", block)).contains("\nip daddr { 198.19.0.0/16 } drop" + DROP_COMMENT), text);
    }

    @Test
    void unallocatedAddressesInsideAServiceCIDRAreDroppedAndOthersRouted() throws DataplaneException {
        dataplane.sync(SyncRequest.full(state("198.19.0.0/16")));
        NftablesTracer tracer = new NftablesTracer(nft, Set.of("198.18.0.1"));
        assertEquals(Outcome.drop(), tracer.trace(Packet.tcp(Packet.Origin.POD, "198.18.0.100", "198.19.0.99", 80)).outcome());
        assertEquals(Outcome.drop(), tracer.trace(Packet.tcp(Packet.Origin.NODE, "198.18.0.1", "198.19.0.99", 80)).outcome());
        assertEquals(Outcome.reject(), tracer.trace(Packet.tcp(Packet.Origin.POD, "198.18.0.100", "198.19.0.10", 81)).outcome(),
                "an allocated ClusterIP's other port is still rejected");
        assertEquals(Outcome.dnat(false, "198.18.0.2:8080"),
                tracer.trace(Packet.tcp(Packet.Origin.POD, "198.18.0.100", "198.19.0.10", 80)).outcome());
        assertEquals(Outcome.untouched(), tracer.trace(Packet.tcp(Packet.Origin.POD, "198.18.0.100", "198.20.0.1", 80)).outcome(),
                "outside every ServiceCIDR: not ours");
    }
}
