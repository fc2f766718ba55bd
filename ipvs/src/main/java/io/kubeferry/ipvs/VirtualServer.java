package io.kubeferry.ipvs;

import java.util.Set;

/**
 * One IPVS virtual service. {@code persistence} is the -p timeout in seconds, 0 for none.
 * Identity is {@link #key()}: scheduler, flags and persistence can be edited in place (-E).
 */
record VirtualServer(String protocol, String address, int port, String scheduler, Set<String> flags, int persistence) {
    VirtualServer {
        flags = Set.copyOf(flags);
    }

    String key() {
        return protocol + ":" + address + ":" + port;
    }
}
