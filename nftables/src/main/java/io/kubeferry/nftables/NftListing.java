package io.kubeferry.nftables;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Reads the names out of {@code nft list chains <family>} and {@code nft -t list sets <family>} text: the
 * {@code chain NAME {}, {@code set NAME {} and {@code map NAME {} lines inside one table's block. Only names: a
 * first sync after a restart needs to know which per-Service chains and affinity sets an earlier run left, not
 * their contents, and listing the whole table is what makes upstream slow at scale.
 */
final class NftListing {

    private NftListing() {
    }

    /** The objects of {@code kind} ({@code chain}, {@code set}, {@code map}) in table {@code family table}. */
    static Set<String> names(String listing, String family, String table, String kind) {
        Set<String> out = new LinkedHashSet<>();
        boolean inside = false;
        String opening = "table " + family + " " + table + " {";
        for (String line : listing.split("\n")) {
            if (!line.startsWith("\t") && !line.isBlank()) {
                inside = line.strip().equals(opening);
                continue;
            }
            String body = line.strip();
            if (inside && line.startsWith("\t" + kind + " ") && !line.startsWith("\t\t") && body.endsWith("{")) {
                out.add(body.substring(kind.length() + 1, body.length() - 1).strip());
            }
        }
        return out;
    }
}
