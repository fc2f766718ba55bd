package io.kubeferry.example.hooks;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.conntrack.ConntrackChange;
import io.kubeferry.proxy.conntrack.ConntrackHook;
import io.kubeferry.proxy.conntrack.ConntrackHookProvider;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EndpointRemovalLogTest {

    @Test
    void oneLinePerRemovedEndpointSayingHowItWent() throws Exception {
        Endpoint a = endpoint("198.18.0.11", 8080);
        Endpoint b = endpoint("198.18.0.12", 8080);
        Endpoint draining = new Endpoint("198.18.0.13", 8080, false, true, true, "node-b", "", Set.of(), Set.of(), false);
        ProxyState before = state(port("default", "web", "http", Protocol.TCP, "198.19.0.10", 80).resolve(a, b, draining));
        ProxyState after = state(port("default", "web", "http", Protocol.TCP, "198.19.0.10", 80).resolve(a));
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        EndpointRemovalLog hook = new EndpointRemovalLog(metrics);
        ConntrackChange change = new ConntrackChange(before, after, Set.of(), false);

        assertEquals(List.of("endpoint removed: default/web:http tcp 198.18.0.12:8080 (was ready)",
                "endpoint removed: default/web:http tcp 198.18.0.13:8080 (was terminating)"), EndpointRemovalLog.lines(change));
        hook.afterSync(change);
        assertEquals(2.0, metrics.get("kubeferry.example.endpoint.removals").counter().count());
    }

    @Test
    void theAgentFindsItOnTheClassPath() {
        DataplaneContext context = new DataplaneContext(ProxyConfig.defaults(), new FakeNetfilter(), new SimpleMeterRegistry());
        List<String> names = ConntrackHookProvider.all().stream().map(p -> p.create(context)).map(ConntrackHook::name).toList();
        assertTrue(names.contains("example-removals"), names.toString());
        assertTrue(names.contains("stale-udp"), "the built-ins still load beside it: " + names);
    }
}
