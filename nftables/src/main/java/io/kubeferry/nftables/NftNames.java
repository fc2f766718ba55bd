package io.kubeferry.nftables;

import io.kubeferry.proxy.dataplane.UpstreamHash;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Upstream nftables mode's object names (k/k pkg/proxy/nftables: servicePortChainNameBase,
 * servicePortEndpointChainNameBase, hashAndTruncate): {@code <prefix><HASH8>-ns/svc/proto/port} and
 * {@code ...__ip/port} for endpoints, HASH8 being the first 8 characters of base32(sha256(name)). The names
 * carry the Service's identity in the clear (nft allows '/' in names, the API's names never contain it), so a
 * chain name with a '/' is always a per-Service one. Cached: hashing every name on every sync would cost more
 * than the rest of a 10,000-Service render.
 */
final class NftNames {

    static final String SERVICE = "service-";
    static final String LOCAL = "local-";
    static final String EXTERNAL = "external-";
    static final String FIREWALL = "firewall-";
    static final String ENDPOINT = "endpoint-";
    static final String AFFINITY = "affinity-";

    /** knftables.NameLengthMax (256) less the longest prefix with its hyphen (16), as upstream. */
    static final int BASE_MAX = 240;

    /** The names of one Service port's chains. */
    record ServiceNames(String cluster, String local, String external, String firewall) {
    }

    private final Map<ServicePortName, ServiceNames> services;
    private final Map<String, String> endpoints;

    /** @param capacity how many Service ports (and endpoints, times 8) to remember */
    NftNames(int capacity) {
        this.services = lru(capacity);
        this.endpoints = lru(capacity * 8);
    }

    ServiceNames of(ServicePortName name) {
        return services.computeIfAbsent(name, n -> {
            String base = hashAndTruncate(n.namespace() + "/" + n.name() + "/" + n.protocol().lower() + "/" + n.port());
            return new ServiceNames(SERVICE + base, LOCAL + base, EXTERNAL + base, FIREWALL + base);
        });
    }

    /** The endpoint's chain; its affinity set is the same name with {@link #AFFINITY} for {@link #ENDPOINT}. */
    String endpoint(ServicePortName name, Endpoint ep) {
        String key = name.namespace() + "/" + name.name() + "/" + name.protocol().lower() + "/" + name.port()
                + "__" + ep.ip().replace(':', '.') + "/" + ep.port();
        return endpoints.computeIfAbsent(key, k -> ENDPOINT + hashAndTruncate(k));
    }

    static String affinitySet(String endpointChain) {
        return AFFINITY + endpointChain.substring(ENDPOINT.length());
    }

    /** Upstream's test for its per-Service chains: only they contain a '/'. */
    static boolean isServiceChain(String chain) {
        return chain.indexOf('/') >= 0;
    }

    static boolean isAffinitySet(String set) {
        return set.startsWith(AFFINITY);
    }

    static String hashAndTruncate(String name) {
        String out = hash8(name) + "-" + name;
        return out.length() > BASE_MAX ? out.substring(0, BASE_MAX - 3) + "..." : out;
    }

    /** base32.StdEncoding(sha256(name))[:8], upstream's hashAndTruncate. */
    static String hash8(String name) {
        return UpstreamHash.of(name, 8);
    }

    private static <K, V> Map<K, V> lru(int capacity) {
        return new LinkedHashMap<>(16, 0.75f, true) {

            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > capacity;
            }
        };
    }
}
