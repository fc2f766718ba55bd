package io.kubeferry.proxy.health;

import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** /debug/state, the health check node ports and the HTTP endpoints on a dual-stack node (issue 14). */
class DualStackHealthTest {

    private static ProxyState v6(ResolvedService... services) {
        TreeMap<ServicePortName, ResolvedService> map = new TreeMap<>();
        for (ResolvedService s : services) {
            map.put(s.name(), s);
        }
        return new ProxyState(state().node(), map, 3, List.of(io.kubeferry.proxy.model.Cidr.parse("2001:db8:1::/112")), IpFamily.IPv6);
    }

    @Test
    void debugStateShowsEveryFamilysServicePortsEachNamingItsFamily() {
        var web4 = port("shop", "web", "http", Protocol.TCP, "198.19.0.10", 80).resolve(endpoint("198.18.0.1", 8080));
        var web6 = port("shop", "web", "http", Protocol.TCP, "2001:db8:1::10", 80).resolve(endpoint("2001:db8::1", 8080));
        Map<IpFamily, ProxyState> states = new EnumMap<>(IpFamily.class);
        states.put(IpFamily.IPv4, state(web4));
        states.put(IpFamily.IPv6, v6(web6));
        Map<IpFamily, Map<ServicePortName, SchedulerInForce>> schedulers = new EnumMap<>(IpFamily.class);
        schedulers.put(IpFamily.IPv6,
                Map.of(web6.name(), new SchedulerInForce("random", java.util.Set.of(), SchedulerInForce.Why.MODE_DEFAULT, "")));
        JsonObject json = new JsonObject(DebugState.render(states, schedulers));
        assertEquals(new JsonArray(List.of("IPv4", "IPv6")), json.getJsonArray("ipFamilies"));
        assertEquals(new JsonArray(List.of("2001:db8:1::/112")), json.getJsonArray("serviceCIDRs"));
        JsonArray services = json.getJsonArray("services");
        assertEquals(2, services.size());
        assertEquals(List.of("IPv4", "IPv6"), services.stream().map(o -> ((JsonObject) o).getString("ipFamily")).toList());
        assertEquals("2001:db8:1::10", services.getJsonObject(1).getString("clusterIP"));
        assertEquals("[2001:db8::1]:8080", services.getJsonObject(1).getJsonArray("clusterEndpoints").getString(0));
        assertEquals(null, services.getJsonObject(0).getJsonObject("scheduler"), "IPv4's schedulers are IPv4's own");
        assertEquals("random", services.getJsonObject(1).getJsonObject("scheduler").getString("algorithm"));
    }

    @Test
    void aDualStackServiceHasLocalEndpointsWhenEitherFamilyHasThemCountedOnce() {
        Vertx vertx = Vertx.vertx();
        try {
            // nodePortAddresses selecting no address: nothing listens, the answers are still computed.
            ServiceHealthServers servers = new ServiceHealthServers(vertx, List.of("203.0.113.0/24"), now -> true);
            var v4 = port("shop", "web", "", Protocol.TCP, "198.19.0.10", 80).nodePort(30080).externalLocal(30100)
                    .resolve(localEndpoint("198.18.0.1", 8080), localEndpoint("198.18.0.2", 8080));
            var v6 = port("shop", "web", "", Protocol.TCP, "2001:db8:1::10", 80).nodePort(30080).externalLocal(30100)
                    .resolve(localEndpoint("2001:db8::1", 8080), localEndpoint("2001:db8::2", 8080));
            servers.update(List.of(state(v4), v6(v6)));
            assertEquals(2, servers.entry(30100).localEndpoints(), "the same two pods, once per family: 2, not 4");
            var none4 = port("shop", "web", "", Protocol.TCP, "198.19.0.10", 80).nodePort(30080).externalLocal(30100)
                    .resolve(endpoint("198.18.0.1", 8080));
            servers.update(List.of(state(none4), v6(v6)));
            assertEquals(2, servers.entry(30100).localEndpoints(), "IPv6's local endpoints count when IPv4 has none");
            servers.close();
        } finally {
            vertx.close();
        }
    }

    @Test
    void allAddressesMeansTheIPv6WildcardWhenTheNodeRunsIPv6() {
        assertEquals(List.of("0.0.0.0"), ServiceHealthServers.hosts(List.of(), List.of("198.18.1.1")));
        assertEquals(List.of("::"), ServiceHealthServers.hosts(List.of(), List.of("198.18.1.1", "2001:db8:2::1"), true));
    }

    /** As upstream's per-family NewNodePortAddresses: each family selects from its own addresses. */
    @Test
    void nodePortAddressesSelectPerFamily() {
        List<String> node = List.of("127.0.0.1", "198.18.1.1", "198.18.0.1", "::1", "2001:db8:2::1", "2001:db8:3::1");
        assertEquals(List.of("198.18.1.1", "2001:db8:2::1"), ServiceHealthServers.hosts(List.of("primary"), node, true),
                "primary is each family's primary address");
        // A list with no CIDR of a family means every address of that family.
        assertEquals(List.of("198.18.0.1", "::1", "2001:db8:2::1", "2001:db8:3::1"),
                ServiceHealthServers.hosts(List.of("198.18.0.0/24"), node, true));
        assertEquals(List.of("127.0.0.1", "198.18.1.1", "198.18.0.1", "2001:db8:2::1"),
                ServiceHealthServers.hosts(List.of("2001:db8:2::/64"), node, true));
        assertEquals(List.of("198.18.1.1", "2001:db8:3::1"),
                ServiceHealthServers.hosts(List.of("198.18.1.0/24", "2001:db8:3::/64"), node, true));
    }

    @Test
    void healthzAndMetricsListenOnAnIPv6BindAddress() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            HttpEndpoints http = new HttpEndpoints(vertx, new ProxyHealth(Duration.ofMinutes(1), () -> 0L),
                    new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                    new HttpEndpoints.MetricsPaths("iptables", () -> "{}", () -> "{}"));
            try {
                http.start("[::1]:0", "[::1]:0").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                org.junit.jupiter.api.Assumptions.assumeTrue(false, "no IPv6 loopback here: " + e.getMessage());
            }
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
            for (String path : List.of(http.ports().get(0) + "/livez", http.ports().get(1) + "/proxyMode")) {
                HttpResponse<String> response = client.send(
                        HttpRequest.newBuilder(URI.create("http://[::1]:" + path)).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode(), path);
            }
            http.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
