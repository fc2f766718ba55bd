package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.Protocol;

import java.util.Set;

/**
 * One IPVS virtual service. {@code persistence} is the -p timeout in seconds, 0 for none.
 * Identity is {@link #key()} (lower-case protocol, as {@link IpvsConnections} builds its keys): scheduler, flags and persistence can be edited in place (-E).
 */
record VirtualServer(Protocol protocol, String address, int port, String scheduler, Set<String> flags, int persistence) {

    VirtualServer {
        flags = Set.copyOf(flags);
    }

    String key() {
        return protocol.lower() + ":" + address + ":" + port;
    }
}
