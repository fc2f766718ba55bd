package io.kubeferry.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a node running one proxy mode still holds of the other two: the KUBE-* iptables chains (both flavours,
 * nat/filter/mangle) that mode does not declare itself, {@code table ip kube-proxy} outside nftables mode, and
 * IPVS virtual servers, kube-ipvs0 and KUBE-* ipsets outside IPVS mode. The chains each mode declares are
 * written out here (not taken from the modes' code), so a mode that starts leaving something behind fails this
 * rather than being excused by its own list.
 *
 * @param iptablesNft    {@code iptables-nft-save} of the node
 * @param iptablesLegacy {@code iptables-legacy-save} of the node
 * @param nftTables      {@code nft list tables} of the node
 * @param ipvs           {@code ipvsadm -Sn} of the node (empty where the kernel has no IPVS)
 * @param ipvsDevice     whether kube-ipvs0 exists
 * @param ipsets         {@code ipset list -n} of the node
 */
public record ModeLeftovers(String iptablesNft, String iptablesLegacy, String nftTables, String ipvs, boolean ipvsDevice,
        List<String> ipsets) {

    /** iptables mode's fixed chains, per table; its per-Service-port chains are {@link #SERVICE_CHAIN_PREFIXES}. */
    static final Map<String, Set<String>> IPTABLES_CHAINS = Map.of(
            "nat", Set.of("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-PROXY-CANARY"),
            "filter", Set.of("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-PROXY-FIREWALL",
                    "KUBE-PROXY-CANARY"),
            "mangle", Set.of("KUBE-PROXY-CANARY"));
    static final List<String> SERVICE_CHAIN_PREFIXES = List.of("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-");

    /** IPVS mode's chains (upstream's ipvs proxier's): no canary, no per-Service chains. */
    static final Map<String, Set<String>> IPVS_CHAINS = Map.of(
            "nat", Set.of("KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"),
            "filter", Set.of("KUBE-FORWARD", "KUBE-NODE-PORT", "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL",
                    "KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER"),
            "mangle", Set.of());

    /**
     * Chains any mode may find and leave: kubelet's. iptables mode declares filter's KUBE-FIREWALL (the localnet
     * guard) when kubelet has not, and no mode's cleanup removes it, as upstream kube-proxy's does not; kubelet's
     * canaries and hint are named too, for nodes where kubelet runs.
     */
    static final Set<String> KUBELET_CHAINS = Set.of("filter/KUBE-FIREWALL", "nat/KUBE-KUBELET-CANARY", "filter/KUBE-KUBELET-CANARY",
            "mangle/KUBE-KUBELET-CANARY", "mangle/KUBE-IPTABLES-HINT");

    /** The shell commands (run in the node's namespace, whatever prefix runs them there) this record is read from. */
    public static String script(String inNode) {
        return String.join("\n",
                "echo '### nft-save'; " + inNode + " iptables-nft-save 2>/dev/null",
                "echo '### legacy-save'; " + inNode + " iptables-legacy-save 2>/dev/null",
                "echo '### tables'; " + inNode + " nft list tables 2>/dev/null",
                "echo '### ipvs'; " + inNode + " ipvsadm -Sn 2>/dev/null",
                "echo '### device'; " + inNode + " ip -o link show kube-ipvs0 2>/dev/null",
                "echo '### ipsets'; " + inNode + " ipset list -n 2>/dev/null",
                "true");
    }

    /** Reads the output of {@link #script}. */
    public static ModeLeftovers parse(String out) {
        Map<String, StringBuilder> sections = new java.util.HashMap<>();
        StringBuilder current = null;
        for (String line : out.split("\n", -1)) {
            if (line.startsWith("### ")) {
                current = sections.computeIfAbsent(line.substring(4).strip(), k -> new StringBuilder());
            } else if (current != null) {
                current.append(line).append('\n');
            }
        }
        java.util.function.Function<String, String> s = k -> sections.getOrDefault(k, new StringBuilder()).toString();
        return new ModeLeftovers(s.apply("nft-save"), s.apply("legacy-save"), s.apply("tables"), s.apply("ipvs"),
                !s.apply("device").isBlank(), s.apply("ipsets").lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
    }

    /** What this node holds that {@code mode} (iptables, ipvs or nftables) does not write: empty when nothing. */
    public List<String> of(String mode) {
        List<String> found = new ArrayList<>();
        Map<String, Set<String>> own = switch (mode) {
            case "iptables" -> IPTABLES_CHAINS;
            case "ipvs" -> IPVS_CHAINS;
            case "nftables" -> Map.of();
            default -> throw new IllegalArgumentException("no such mode: " + mode);
        };
        Set<String> nft = kubeChains(iptablesNft);
        Set<String> legacy = kubeChains(iptablesLegacy);
        // A mode writes one flavour (the one with its nat KUBE-SERVICES); the other must hold none of its chains.
        boolean inNft = nft.contains("nat/KUBE-SERVICES");
        boolean inLegacy = legacy.contains("nat/KUBE-SERVICES");
        if (inNft && inLegacy) {
            found.add("nat/KUBE-SERVICES in both iptables-nft and iptables-legacy");
        }
        boolean perService = mode.equals("iptables");
        foreignChains("iptables-nft", nft, inNft || !inLegacy ? own : Map.of(), perService && !inLegacy, mode).forEach(found::add);
        foreignChains("iptables-legacy", legacy, inLegacy ? own : Map.of(), perService && inLegacy, mode).forEach(found::add);
        duplicatedJumps("iptables-nft", iptablesNft).forEach(found::add);
        duplicatedJumps("iptables-legacy", iptablesLegacy).forEach(found::add);
        if (!mode.equals("ipvs")) {
            for (String save : List.of(iptablesNft, iptablesLegacy)) {
                save.lines().filter(l -> l.startsWith("-A ") && (l.contains("--match-set KUBE-") || l.contains("-m ipvs")))
                        .forEach(l -> found.add("IPVS mode's rule: " + l));
            }
            ipvs.lines().filter(l -> !l.isBlank()).forEach(l -> found.add("IPVS virtual or real server: " + l.strip()));
            if (ipvsDevice) {
                found.add("kube-ipvs0");
            }
            ipsets.stream().filter(n -> n.startsWith("KUBE-")).forEach(n -> found.add("ipset " + n));
        }
        if (!mode.equals("nftables") && nftTables.lines().anyMatch(l -> l.strip().equals("table ip kube-proxy"))) {
            found.add("table ip kube-proxy");
        }
        return found;
    }

    /** The KUBE-* chains of an iptables-save text, as {@code table/chain}. */
    static Set<String> kubeChains(String save) {
        Set<String> out = new TreeSet<>();
        String table = "";
        for (String line : save.lines().toList()) {
            if (line.startsWith("*")) {
                table = line.substring(1).strip();
            } else if (line.startsWith(":KUBE-")) {
                out.add(table + "/" + line.substring(1, line.indexOf(' ') > 0 ? line.indexOf(' ') : line.length()));
            }
        }
        return out;
    }

    /**
     * A rule of a built-in chain (a jump into a mode's chains) that is there twice: the modes write the jumps they
     * share identically, so a second copy is one the previous mode left.
     */
    static List<String> duplicatedJumps(String flavour, String save) {
        List<String> out = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        String table = "";
        for (String line : save.lines().toList()) {
            if (line.startsWith("*")) {
                table = line.substring(1).strip();
            } else if (line.startsWith("-A ") && !line.startsWith("-A KUBE-") && line.contains("-j KUBE-")
                    && !seen.add(table + " " + line)) {
                out.add(flavour + " " + table + " twice: " + line);
            }
        }
        return out;
    }

    private static List<String> foreignChains(String flavour, Set<String> chains, Map<String, Set<String>> own, boolean perService,
            String mode) {
        return chains.stream().filter(c -> !KUBELET_CHAINS.contains(c)).filter(c -> {
            String table = c.substring(0, c.indexOf('/'));
            String chain = c.substring(c.indexOf('/') + 1);
            boolean serviceChain = perService && table.equals("nat") && SERVICE_CHAIN_PREFIXES.stream().anyMatch(chain::startsWith);
            return !serviceChain && !own.getOrDefault(table, Set.of()).contains(chain);
        }).map(c -> flavour + " " + c + " (not " + mode + " mode's)").toList();
    }
}
