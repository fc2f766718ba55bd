package io.kubeferry.proxy.health;

import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;

class DebugStateTest {

    @Test
    void rendersValidJsonWhateverTheNames() {
        // A name from a file source can hold a quote or a newline: the body must stay valid JSON.
        String body = DebugState.render(state(
                port("default", "we\"b\n", "p", Protocol.UDP, "198.19.0.1", 53).internalLocal()
                        .resolve(endpoint("198.18.0.1", 5353), localEndpoint("198.18.0.2", 5353))));
        JsonObject json = new JsonObject(body);
        JsonObject svc = json.getJsonArray("services").getJsonObject(0);
        assertEquals("default/we\"b\n:p", svc.getString("name"));
        assertEquals("UDP", svc.getString("protocol"));
        assertEquals("198.19.0.1", svc.getString("clusterIP"));
        assertEquals(53, svc.getInteger("port"));
        assertEquals("198.18.0.2:5353", svc.getJsonArray("localEndpoints").getString(0));
        assertEquals(0, json.getJsonArray("serviceCIDRs").size());
    }

    @Test
    void listsTheServiceCIDRs() {
        ProxyState empty = ProxyState.empty(NodeInfo.named("node-a"));
        ProxyState withCIDRs = new ProxyState(empty.node(), empty.services(), 1, List.of(Cidr.parse("198.19.0.0/16")));
        assertEquals(List.of("198.19.0.0/16"), new JsonObject(DebugState.render(withCIDRs)).getJsonArray("serviceCIDRs").getList());
    }

    @Test
    void showsEachPortsAlgorithmAndWhyAsTheDataplaneReportedIt() {
        var web = port("shop", "web", "http", Protocol.TCP, "198.19.0.10", 80).resolve(endpoint("198.18.0.1", 8080));
        var db = port("shop", "db", "", Protocol.TCP, "198.19.0.11", 5432).resolve(endpoint("198.18.0.2", 5432));
        var dns = port("kube-system", "dns", "dns", Protocol.UDP, "198.19.0.12", 53).resolve(endpoint("198.18.0.3", 53));
        String body = DebugState.render(state(web, db, dns), java.util.Map.of(
                web.name(), new SchedulerInForce("sh", java.util.Set.of("sh-port", "sh-fallback"), SchedulerInForce.Why.ANNOTATION, ""),
                db.name(), new SchedulerInForce("random", java.util.Set.of(), SchedulerInForce.Why.FALLBACK,
                        "scheduler \"x\" is not available on this node; using \"random\"")));
        java.util.Map<String, JsonObject> byName = new java.util.HashMap<>();
        new JsonObject(body).getJsonArray("services").forEach(o -> byName.put(((JsonObject) o).getString("name"), (JsonObject) o));
        assertEquals(
                new JsonObject().put("algorithm", "sh").put("flags", new io.vertx.core.json.JsonArray(List.of("sh-fallback", "sh-port")))
                        .put("why", "annotation"),
                byName.get("shop/web:http").getJsonObject("scheduler"));
        JsonObject fell = byName.get("shop/db").getJsonObject("scheduler");
        assertEquals("fallback", fell.getString("why"));
        assertEquals("scheduler \"x\" is not available on this node; using \"random\"", fell.getString("reason"));
        assertEquals(null, byName.get("kube-system/dns:dns").getJsonObject("scheduler"), "a port the mode did not report has none");
    }
}
