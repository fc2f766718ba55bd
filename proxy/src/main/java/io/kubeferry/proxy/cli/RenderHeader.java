package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.model.ServicePortName;

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

    /**
     * The algorithm each Service port gets in this program, and why, as comment lines after the mode's header
     * ({@code #   shop/web:http tcp: maglev (annotation)}); nothing for a mode that does not report them.
     */
    static String schedulers(java.util.Map<ServicePortName, SchedulerInForce> inForce) {
        if (inForce.isEmpty()) {
            return "";
        }
        StringBuilder text = new StringBuilder("# Load balancing per Service port: the algorithm in force, and why (annotation:\n"
                + "# the Service's kube-ferry.io/scheduler; node-default: --scheduler; mode-default: the mode's own;\n"
                + "# fallback: what the Service asked for could not be given, with the reason).\n");
        new java.util.TreeMap<>(inForce).forEach((name, s) -> text.append("#   ").append(name).append(' ')
                .append(name.protocol().lower()).append(": ").append(s.describe().replace('\n', ' ')).append('\n'));
        return text.toString();
    }

    /**
     * The comment line before one family's program when render prints more than one family (or IPv6 alone): the
     * family, and the tool that takes the lines from there to the next such line. {@code #} starts a comment in every
     * mode's input (iptables-restore, nft -f, the IPVS sections).
     */
    static String family(String mode, io.kubeferry.proxy.model.IpFamily family) {
        boolean v6 = family == io.kubeferry.proxy.model.IpFamily.IPv6;
        String takes = switch (mode) {
            case "iptables" -> v6 ? "ip6tables-restore" : "iptables-restore";
            case "ipvs" ->
                v6 ? "IPv6 virtual servers, inet6 ipsets and ip6tables-restore" : "IPv4 virtual servers, ipsets and iptables-restore";
            case "nftables" -> v6 ? "nft -f -, table ip6 kube-proxy" : "nft -f -, table ip kube-proxy";
            default -> mode + " mode";
        };
        return "# ==== " + family + " (" + takes + "): this family's program, up to the next ==== line or the end.\n";
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
