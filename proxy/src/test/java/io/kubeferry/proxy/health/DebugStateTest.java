package io.kubeferry.proxy.health;

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
}
