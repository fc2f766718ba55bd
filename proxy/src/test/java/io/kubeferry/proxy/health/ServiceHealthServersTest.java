package io.kubeferry.proxy.health;

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
}
