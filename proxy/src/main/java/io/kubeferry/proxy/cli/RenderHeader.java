package io.kubeferry.proxy.cli;

/**
 * The comment lines {@code render} prints before the program: how the agent applies it, so that an operator
 * who applies it by hand does not flush their own rules. Every line starts with {@code #}, which
 * iptables-restore (and the other tools' batch formats) skip.
 */
final class RenderHeader {

    private static final String IPTABLES = """
            # kube-ferry render: the program the agent applies for these objects (iptables mode, a full sync).
            # The agent feeds it to iptables-restore --noflush --counters (the iptables-nft-restore or
            # iptables-legacy-restore the node uses). Plain iptables-restore, without --noflush, would flush each
            # table named below, the operator's own rules included.
            # The -I lines insert the jumps from the built-in chains (PREROUTING, OUTPUT, FORWARD, ...). The agent
            # inserts each once, only when it is missing, so restoring this text twice with --noflush duplicates them.
            """;

    private static final String IPVS = """
            # kube-ferry render: what the agent programs for these objects (ipvs mode, a full sync).
            # Each section below is the input of the command its heading names, applied in this order; the text
            # as a whole is not the input of any one tool.
            # The iptables section goes to iptables-restore --noflush --counters. Plain iptables-restore would
            # flush each table named there, the operator's own rules included. Its -I lines insert the jumps from
            # the built-in chains; the agent inserts each once, only when it is missing, so restoring that section
            # twice with --noflush duplicates them.
            """;

    private static final String NFTABLES = """
            # kube-ferry render: the transaction the agent applies for these objects (nftables mode, a full sync
            # on a fresh node). The agent feeds it to nft -f -, which applies it atomically. It touches only the
            # table ip kube-proxy; applied by hand on a node with an older kube-proxy table, it flushes the
            # shared maps and sets and refills them.
            """;

    private RenderHeader() {
    }

    static String forMode(String mode) {
        return switch (mode) {
            case "iptables" -> IPTABLES;
            case "ipvs" -> IPVS;
            case "nftables" -> NFTABLES;
            default -> "# kube-ferry render: the program the agent applies for these objects (" + mode + " mode, a full sync).\n";
        };
    }
}
