package io.kubeferry.proxy.health;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Where the Service health check servers listen: where upstream's do, never the healthz bind address. */
class ServiceHealthServersTest {

    private static final List<String> NODE = List.of("127.0.0.1", "198.18.1.1", "198.18.0.1");

    @Test
    void everyAddressWithoutNodePortAddresses() {
        assertEquals(List.of("0.0.0.0"), ServiceHealthServers.hosts(List.of(), NODE));
        assertEquals(List.of("0.0.0.0"), ServiceHealthServers.hosts(List.of("all"), NODE));
    }

    @Test
    void theSelectedNodeAddressesWithNodePortAddresses() {
        assertEquals(List.of("198.18.1.1"), ServiceHealthServers.hosts(List.of("198.18.1.0/24"), NODE));
        assertEquals(List.of("198.18.1.1"), ServiceHealthServers.hosts(List.of("primary"), NODE));
        assertEquals(List.of("198.18.0.1", "198.18.1.1"), ServiceHealthServers.hosts(List.of("198.18.0.0/24", "198.18.1.0/24"), NODE));
        assertEquals(List.of(), ServiceHealthServers.hosts(List.of("10.0.0.0/8"), NODE));
    }

    @Test
    void bodyStaysValidJsonWhateverTheNames() {
        // Encoded, not concatenated: a quote or a backslash in a value must not end or break the string.
        JsonObject body = new JsonObject(ServiceHealthServers.body(new ServiceHealthServers.Entry("default", "we\"b\\", 2), false));
        assertEquals(new JsonObject().put("namespace", "default").put("name", "we\"b\\"), body.getJsonObject("service"));
        assertEquals(2, body.getInteger("localEndpoints"));
        assertEquals(false, body.getBoolean("serviceProxyHealthy"));
        assertEquals(List.of("service", "localEndpoints", "serviceProxyHealthy"), List.copyOf(body.fieldNames()));
    }
}
