package io.kubeferry.iptables;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.kubeferry.proxy.dataplane.UpstreamHash;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ServicePortName;

/**
 * Upstream's per-Service-port chain names: a prefix plus the first 16 characters of
 * base32(sha256(name + protocol [+ endpoint])). Operators and tools recognise these names, so the hash
 * must stay bit-for-bit identical. Hashes are cached: a full sync of 10,000 Services would otherwise
 * spend most of its time in SHA-256.
 */
final class ChainNames {

    static final String SVC = "KUBE-SVC-";
    static final String SVL = "KUBE-SVL-";
    static final String EXT = "KUBE-EXT-";
    static final String FW = "KUBE-FW-";
    static final String SEP = "KUBE-SEP-";

    /** The names of one Service port's chains. */
    record PortChains(String cluster, String local, String external, String firewall) {
    }

    private final Cache<ServicePortName, PortChains> ports;
    private final Cache<String, String> endpoints;

    ChainNames(long maximumEntries) {
        ports = Caffeine.newBuilder().maximumSize(maximumEntries).build();
        endpoints = Caffeine.newBuilder().maximumSize(maximumEntries * 4).build();
    }

    PortChains of(ServicePortName name) {
        return ports.get(name, n -> {
            String hash = hash(n.toString() + n.protocol().lower());
            return new PortChains(SVC + hash, SVL + hash, EXT + hash, FW + hash);
        });
    }

    String endpoint(ServicePortName name, Endpoint endpoint) {
        String key = name.toString() + name.protocol().lower() + endpoint.hostPort();
        return endpoints.get(key, k -> SEP + hash(k));
    }

    /** True for the chain kinds kube-ferry makes per Service port (and so may delete when stale). */
    static boolean isServiceChain(String chain) {
        return chain.startsWith(SVC) || chain.startsWith(SVL) || chain.startsWith(EXT)
                || chain.startsWith(FW) || chain.startsWith(SEP);
    }

    static String hash(String input) {
        return UpstreamHash.of(input, 16);
    }
}
