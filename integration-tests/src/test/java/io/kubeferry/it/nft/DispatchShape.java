package io.kubeferry.it.nft;

/**
 * How a Service chain picks one of its endpoint chains: the candidates the benchmark measures against each
 * other (issue 12, part 4). Upstream's shape gives every Service an anonymous map; the kernel allocates an
 * anonymous set's name by scanning every set of the table, so a full load grows with the square of the
 * Service count (k/k#139513).
 */
enum DispatchShape {

    /** Upstream 1.35: {@code numgen random mod N vmap { 0 : goto endpoint-A, ... }}, one anonymous map per Service. */
    UPSTREAM_VMAP("a", "upstream vmap per Service"),

    /** Upstream after k/k PR #140723: as {@link #UPSTREAM_VMAP} but a plain {@code goto} for a single endpoint. */
    UPSTREAM_SINGLE_GOTO("d", "upstream vmap, plain goto for 1 endpoint"),

    /**
     * iptables' statistic cascade in nft, no map: rule i is {@code numgen random mod (N-i) 0 goto endpoint-i}
     * (each rule draws again, so 1/(N-i) of what is left makes every endpoint 1/N), the last a plain goto.
     */
    CASCADE("b", "numgen cascade, no maps"),

    /**
     * One shared map {@code service-endpoints} (integer slot : verdict) for all Services; each Service owns the
     * slot range [offset, offset+N) and its chain looks it up with {@code numgen random mod N offset O vmap
     * @service-endpoints}. One map, but one binding of it per Service chain.
     */
    SHARED_MAP("c", "shared map, numgen offset per Service"),

    /**
     * One shared map bound by ONE rule: the Service chain writes its slot into the packet mark
     * ({@code meta mark set numgen random mod N offset O}) and jumps to a {@code service-dispatch} chain holding
     * {@code meta mark vmap @service-endpoints}. It clobbers the mark (other software's bits and the
     * masquerade bit, which the Service chain therefore sets after the slot and the dispatch masks off).
     */
    SHARED_MAP_MARK("c'", "shared map via meta mark, one binding");

    final String letter;
    final String title;

    DispatchShape(String letter, String title) {
        this.letter = letter;
        this.title = title;
    }

    boolean usesSharedMap() {
        return this == SHARED_MAP || this == SHARED_MAP_MARK;
    }

    String label() {
        return "(" + letter + ") " + title;
    }
}
