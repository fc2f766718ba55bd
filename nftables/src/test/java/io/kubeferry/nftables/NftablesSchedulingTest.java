package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.testing.trace.Packet;
import io.kubeferry.proxy.testing.trace.PathEnd;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.CLIENTS;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.assertEven;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.assertMaglevRemap;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.clients;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.counts;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.endpoints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduling algorithms as nftables mode writes them (ServiceDispatch), judged by what the rules do: each
 * cluster is synced to a {@link FakeNft} and the first packets of 10,000 clients are walked through the table by the
 * sampling {@link NftablesTracer} (numgen random drawn from a seeded Random, numgen inc by per-rule counters, the
 * kernel's jhash into the shared slot map).
 */
class NftablesSchedulingTest {

    static final String VIP = "198.19.0.10";

    private final List<String> events = new ArrayList<>();
    private FakeNft nft;

    NftablesTracer synced(List<ResolvedService> services, ProxyConfig config) throws Exception {
        nft = new FakeNft();
        FakeNftTools tools = new FakeNftTools(nft, List.of("127.0.0.1/8", "198.18.1.1/24"));
        NftablesDataplane dp = new NftablesDataplane(new DataplaneContext(config, tools, new SimpleMeterRegistry(),
                (service, reason, message) -> events.add(service.name() + " " + reason + ": " + message)), () -> 1_000_000_000_000L);
        dp.sync(new SyncRequest(state(services.toArray(ResolvedService[]::new)), Set.of(), true));
        return new NftablesTracer(nft, Set.of("198.18.1.1"));
    }

    static ResolvedService service(String name, String vip, String scheduler, List<Endpoint> eps) {
        return port("ns", name, "", Protocol.TCP, vip, 80).option(SchedulerCatalog.SCHEDULER_KEY, scheduler)
                .resolve(eps.toArray(Endpoint[]::new));
    }

    NftablesTracer synced(String scheduler, List<Endpoint> eps) throws Exception {
        return synced(List.of(service("web", VIP, scheduler, eps)), ProxyConfig.defaults().withMode("nftables"));
    }

    /** Where each client went: exactly one DNAT per packet, or the test fails. */
    static Map<String, String> route(NftablesTracer tracer, List<String> clients, String vip) {
        Map<String, String> where = new HashMap<>();
        for (String c : clients) {
            var ends = tracer.trace(Packet.tcp(Packet.Origin.OUTSIDE, c, vip, 80)).outcome().ends();
            assertEquals(1, ends.size(), c + ": " + ends);
            PathEnd end = ends.iterator().next();
            assertEquals(PathEnd.Kind.DNAT, end.kind(), c + ": " + end);
            where.put(c, end.endpoint());
        }
        return where;
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "rr", "source-hash", "maglev"})
    void tenThousandClientsSpreadWithinFivePercentOfEven(String scheduler) throws Exception {
        NftablesTracer tracer = synced(scheduler, endpoints(4)).sampling(new Random(7));
        assertEven("nftables " + scheduler, counts(route(tracer, clients(42, CLIENTS), VIP)), 4);
        assertTrue(events.isEmpty(), events.toString());
    }

    @Test
    void roundRobinSplitsThirtyConnectionsExactlyTenTenTen() throws Exception {
        NftablesTracer tracer = synced("rr", endpoints(3)).sampling(new Random(1));
        Map<String, Integer> counts = counts(route(tracer, Collections.nCopies(1, "198.18.70.1"), VIP));
        for (int i = 1; i < 30; i++) {
            counts.merge(route(tracer, List.of("198.18.70.1"), VIP).get("198.18.70.1"), 1, Integer::sum);
        }
        assertEquals(Map.of("198.18.0.10:8080", 10, "198.18.0.11:8080", 10, "198.18.0.12:8080", 10), counts);
    }

    @ParameterizedTest
    @ValueSource(strings = {"source-hash", "maglev"})
    void aClientAddressKeepsItsEndpointAndTheHashLeavesOnePath(String scheduler) throws Exception {
        NftablesTracer exact = synced(scheduler, endpoints(5));
        List<String> cs = clients(5, 500);
        assertEquals(route(exact, cs, VIP), route(exact.sampling(new Random(3)), cs, VIP));
    }

    @Test
    void maglevMovesAboutOneNthOfClientsWhenOneEndpointGoesOrComes() throws Exception {
        List<String> cs = clients(11, CLIENTS);
        assertMaglevRemap("nftables", eps -> route(synced("maglev", eps), cs, VIP));
    }

    /** Every hashing Service shares one map; each has its own id in the key, and a rule per chain, not a map. */
    @Test
    void hashingServicesShareOneSlotMap() throws Exception {
        List<ResolvedService> svcs = new ArrayList<>();
        for (int s = 0; s < 20; s++) {
            svcs.add(service("m" + s, "198.19.1." + (10 + s), s % 2 == 0 ? "maglev" : "source-hash", endpoints(3)));
        }
        NftablesTracer tracer = synced(svcs, ProxyConfig.defaults().withMode("nftables"));
        Map<String, String> slots = nft.elements("ip", "kube-proxy", ServiceDispatch.SLOTS_MAP);
        assertEquals(10 * 1021 + 10 * 3, slots.size());
        long maps = nft.containers("ip", "kube-proxy").stream().filter(c -> nft.container("ip", "kube-proxy", c).map()).count();
        System.out.println("20 hashing Services (10 maglev M=1021, 10 source-hash N=3): " + slots.size() + " elements in one map; "
                + maps + " maps in the table");
        for (int s = 0; s < 20; s++) {
            String vip = "198.19.1." + (10 + s);
            Map<String, String> where = route(tracer, clients(s, 50), vip);
            assertTrue(where.values().stream().allMatch(ep -> ep.startsWith("198.18.0.1")), where.toString());
        }
    }

    /**
     * The rule text of each algorithm (golden file, reviewed): rr's numgen inc cascade, source-hash's and maglev's one
     * jhash rule each into the shared slot map (declared by the first hashing Service, flushed on a sync from scratch)
     * with their elements. Maglev with M = 7, so the table is short.
     */
    @Test
    void theRulesEachAlgorithmWrites() throws Exception {
        NftablesScheduling d = NftablesScheduling.defaults();
        NftablesRenderer renderer = new NftablesRenderer(new NftNames(1000), new NftablesScheduling(d.catalog(), d.algorithms(), 7));
        var state = io.kubeferry.proxy.testing.Fixtures.state(service("rr", "198.19.0.20", "rr", endpoints(3)),
                service("sh", "198.19.0.21", "source-hash", endpoints(3)), service("mgl", "198.19.0.22", "maglev", endpoints(3)));
        String text = NftablesRendererTest.full(renderer, state, NftablesRendererTest.SETTINGS);
        NftGolden.check("schedulers", text);
        FakeNft fake = new FakeNft();
        fake.apply(renderer.render(state, NftablesRendererTest.SETTINGS, Set.of(), true, null, null, 0).main());
        assertEquals(3 + 7, fake.elements("ip", "kube-proxy", ServiceDispatch.SLOTS_MAP).size());
    }

    /** A partial sync of one maglev Service writes that Service's slot elements only, and leaves no stale ones. */
    @Test
    void aPartialSyncTouchesOnlyTheChangedServicesSlots() throws Exception {
        NftablesRenderer renderer = new NftablesRenderer(new NftNames(1000));
        ResolvedService a = service("a", "198.19.0.30", "maglev", endpoints(3));
        ResolvedService b = service("b", "198.19.0.31", "maglev", endpoints(3));
        FakeNft fake = new FakeNft();
        NftSync first = renderer.render(io.kubeferry.proxy.testing.Fixtures.state(a, b), NftablesRendererTest.SETTINGS, Set.of(), true,
                null,
                null, 0);
        fake.apply(first.main());
        ResolvedService b2 = service("b", "198.19.0.31", "maglev", endpoints(4));
        NftSync second = renderer.render(io.kubeferry.proxy.testing.Fixtures.state(a, b2), NftablesRendererTest.SETTINGS, Set.of(b2.name()),
                false, first.next(), null, 1);
        String tx = second.main().render();
        long aId = ServiceDispatch.id(new NftNames(1000).of(a.name()).cluster())[0];
        assertTrue(tx.lines().noneMatch(l -> l.contains("element") && l.contains("{ " + aId + " . ")), "nothing of a's slots:\n" + tx);
        assertTrue(tx.lines().anyMatch(l -> l.startsWith("add element ip kube-proxy scheduler-slots")), tx);
        fake.apply(second.main());
        assertEquals(2 * 1021, fake.elements("ip", "kube-proxy", ServiceDispatch.SLOTS_MAP).size());
        assertTrue(route(new NftablesTracer(fake, Set.of("198.18.1.1")), clients(3, 200), "198.19.0.31").containsValue("198.18.0.13:8080"));
    }

    /** The kernel's JSON of the dispatch rules (nft 1.0.6, listed in a netns) reads back as ServiceDispatch wrote them. */
    @Test
    void theKernelsListingOfTheDispatchReadsBackAsWritten() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        String hash = "[{\"vmap\": {\"key\": {\"concat\": [{\"numgen\": {\"mode\": \"random\", \"mod\": 1, \"offset\": 305419896}}, "
                + "{\"jhash\": {\"mod\": 1021, \"seed\": 1801872754, \"offset\": 16384, \"expr\": {\"payload\": {\"protocol\": \"ip\", "
                + "\"field\": \"saddr\"}}}}]}, \"data\": \"@scheduler-slots\"}}]";
        assertEquals("numgen random mod 1 offset 305419896 . jhash ip saddr mod 1021 seed 0x6b666572 offset 16384 vmap @scheduler-slots",
                NftRuleText.print(json.readTree(hash), null));
        String rr = "[{\"match\": {\"op\": \"==\", \"left\": {\"numgen\": {\"mode\": \"inc\", \"mod\": 3, \"offset\": 0}}, \"right\": 0}}, "
                + "{\"goto\": {\"target\": \"a\"}}]";
        assertEquals("numgen inc mod 3 0 goto a", NftRuleText.print(json.readTree(rr), null));
    }

    /**
     * A restarted agent over the table an earlier one left (rr, source-hash, maglev Services) ends with the same
     * table, whether it took it over or refilled it (printed; FakeNft's JSON listing stands in for the kernel's).
     */
    @Test
    void aRestartLeavesTheSameTable() throws Exception {
        List<ResolvedService> svcs = List.of(service("rr", "198.19.0.20", "rr", endpoints(3)), service("sh", "198.19.0.21", "source-hash",
                endpoints(3)), service("mgl", "198.19.0.22", "maglev", endpoints(3)));
        synced(svcs, ProxyConfig.defaults().withMode("nftables"));
        String before = nft.dump("ip", "kube-proxy");
        FakeNftTools tools = new FakeNftTools(nft, List.of("127.0.0.1/8", "198.18.1.1/24"));
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        NftablesDataplane restarted = new NftablesDataplane(
                new DataplaneContext(ProxyConfig.defaults().withMode("nftables"), tools, metrics),
                () -> 2_000_000_000_000L);
        var result = restarted.sync(new SyncRequest(state(svcs.toArray(ResolvedService[]::new)), Set.of(), true));
        StringBuilder outcomes = new StringBuilder();
        metrics.find("kubeferry.nftables.start.readback").counters()
                .forEach(c -> outcomes.append(c.getId().getTag("outcome")).append('=').append(c.count()).append(' '));
        System.out.println(
                "restart over rr/source-hash/maglev Services: read-back " + outcomes + ", " + result.bytesWritten() + " bytes written");
        assertEquals(before, nft.dump("ip", "kube-proxy"));
    }
}
