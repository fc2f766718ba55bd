package io.kubeferry.nftables;

import java.util.List;

/**
 * What one Service port puts in the table: its chains (named, created and flushed when it is rewritten), what goes
 * in them with its affinity sets ({@code body}, in write order), and its elements of the shared sets and maps.
 * Kept between syncs, so an unchanged Service costs no rendering and writes nothing.
 */
record ServiceProgram(List<String> chains, List<String> affinitySets, List<NftObject> body, List<NftObject.Element> elements) {

    ServiceProgram {
        chains = List.copyOf(chains);
        affinitySets = List.copyOf(affinitySets);
        body = List.copyOf(body);
        elements = List.copyOf(elements);
    }
}
