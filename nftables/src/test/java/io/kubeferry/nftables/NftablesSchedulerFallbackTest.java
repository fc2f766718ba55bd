package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.testing.Fixtures;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nftables mode offers the table-driven algorithms: a Service asking for another (IPVS's wlc) gets random and one Warning Event. */
class NftablesSchedulerFallbackTest {

    private final List<String> events = new ArrayList<>();

    private Dataplane dataplane(ProxyConfig config) {
        FakeNftTools tools = new FakeNftTools(new FakeNft(), List.of("127.0.0.1/8", "198.18.0.1/24"));
        return new NftablesDataplane(new DataplaneContext(config, tools, new SimpleMeterRegistry(),
                (service, reason, message) -> events.add(service.name() + " " + reason + ": " + message)), () -> 1_000_000_000_000L);
    }

    private static ProxyState state(String scheduler) {
        return Fixtures.state(port("ns1", "web", "http", Protocol.TCP, "198.19.0.10", 80).option(SchedulerCatalog.SCHEDULER_KEY, scheduler)
                .resolve(endpoint("198.18.0.2", 8080), endpoint("198.18.0.3", 8080)));
    }

    @Test
    void anAlgorithmNftablesCannotExpressFallsBackWithOneEvent() throws Exception {
        Dataplane mode = dataplane(ProxyConfig.defaults().withMode("nftables"));
        mode.sync(new SyncRequest(state("wlc"), Set.of(), true));
        mode.sync(new SyncRequest(state("wlc"), Set.of(), true));
        assertEquals(1, events.size(), events.toString());
        assertTrue(events.get(0).startsWith("web SchedulerFallback: scheduler \"wlc\" is not available on this node; using \"random\""),
                events.get(0));
    }

    @Test
    void randomIsWhatItOffers() throws Exception {
        Dataplane mode = dataplane(ProxyConfig.defaults().withMode("nftables"));
        mode.sync(new SyncRequest(state("random"), Set.of(), true));
        assertTrue(events.isEmpty(), events.toString());
    }

    @Test
    void aNodeDefaultItCannotExpressIsLoggedNotEventedPerService() throws Exception {
        Dataplane mode = dataplane(ProxyConfig.defaults().withMode("nftables").withScheduling("wlc", 1021));
        mode.sync(new SyncRequest(Fixtures.state(port("ns1", "web", "http", Protocol.TCP, "198.19.0.10", 80)
                .resolve(endpoint("198.18.0.2", 8080))), Set.of(), true));
        assertTrue(events.isEmpty(), "a Service that asked for nothing gets the mode's default quietly: " + events);
    }

    @Test
    void theChoiceInForceIsReportedPerPort() throws Exception {
        Dataplane mode = dataplane(ProxyConfig.defaults().withMode("nftables"));
        assertTrue(mode.schedulers().isEmpty(), "nothing synced, nothing reported");
        mode.sync(new SyncRequest(state("wlc"), Set.of(), true));
        SchedulerInForce fallback = mode.schedulers().get(Fixtures.name("ns1", "web", "http", Protocol.TCP));
        assertEquals("random", fallback.algorithm());
        assertEquals(SchedulerInForce.Why.FALLBACK, fallback.why());
        mode.render(new SyncRequest(state("maglev"), Set.of(), true));
        SchedulerInForce asked = mode.schedulers().get(Fixtures.name("ns1", "web", "http", Protocol.TCP));
        assertEquals("maglev", asked.algorithm());
        assertEquals(SchedulerInForce.Why.ANNOTATION, asked.why());
    }
}
