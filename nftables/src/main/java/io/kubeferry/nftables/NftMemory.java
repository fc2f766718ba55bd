package io.kubeferry.nftables;

import io.kubeferry.proxy.model.ServicePortName;

import java.util.Map;
import java.util.Set;

/**
 * What the table holds after a sync that applied, as the next sync's render needs it (upstream keeps the same in
 * its proxier: nftElementStorage per set and map, staleChains): every Service port's program, the elements of the
 * shared sets and maps (container, then key to value), the per-Service chains and affinity sets that exist, and the
 * chains that were flushed as stale with when (System.nanoTime) — deleted by a later sync, at least a second
 * after, because kernels before 6.2 cannot delete a chain a just-deleted map element still pointed to.
 */
record NftMemory(Map<ServicePortName, ServiceProgram> programs, Map<String, Map<String, String>> elements,
                 Set<String> chains, Set<String> affinitySets, Map<String, Long> staleChains) {

    NftMemory {
        programs = Map.copyOf(programs);
        elements = Map.copyOf(elements);
        chains = Set.copyOf(chains);
        affinitySets = Set.copyOf(affinitySets);
        staleChains = Map.copyOf(staleChains);
    }
}
