package io.kubeferry.nftables;

import io.kubeferry.proxy.model.ServicePortName;

import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * What the table holds after a sync that applied, as the next sync's render needs it (upstream keeps the same in
 * its proxier: nftElementStorage per set and map, staleChains): every Service port's program, the elements of the
 * shared sets and maps (container, then key to value) with the Service port holding each key and the keys more than
 * one port wants, the per-Service chains and affinity sets that exist, and the
 * chains that were flushed as stale with when (System.nanoTime) — deleted by a later sync, at least a second
 * after, because kernels before 6.2 cannot delete a chain a just-deleted map element still pointed to.
 */
record NftMemory(Map<ServicePortName, ServiceProgram> programs, Map<String, Map<String, String>> elements,
        Map<String, ServicePortName> owners, Set<String> contested, Map<String, Integer> claims,
        Set<String> chains, Set<String> affinitySets, Map<String, Long> staleChains) {

    /** Wraps, does not copy: the renderer hands over maps it built for this value alone (copying 60,000 chain
     *  names per sync would make a one-Service change cost as much as the cluster). A {@link LayeredMap} is
     *  immutable already and stays itself, so the next sync's {@link LayeredMap#edit} shares its base. */
    NftMemory {
        programs = frozen(programs);
        elements = frozen(elements);
        owners = frozen(owners);
        contested = Collections.unmodifiableSet(contested);
        claims = frozen(claims);
        chains = frozen(chains);
        affinitySets = frozen(affinitySets);
        staleChains = Collections.unmodifiableMap(staleChains);
    }

    private static <K, V> Map<K, V> frozen(Map<K, V> map) {
        return map instanceof LayeredMap ? map : Collections.unmodifiableMap(map);
    }

    private static <K> Set<K> frozen(Set<K> set) {
        return set instanceof LayeredMap.Keys ? set : Collections.unmodifiableSet(set);
    }
}
