package io.kubeferry.proxy.health;

import io.kubeferry.proxy.model.Protocol;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

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
    }
}
