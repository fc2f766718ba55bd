package io.kubeferry.iptables;

import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolNotFoundException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.IpFamily;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The iptables flavour a node uses (nft or legacy) and its program names. Rules made by one flavour are
 * invisible to the other, so kube-ferry must use the one kubelet uses: it looks for kubelet's hint and
 * canary chains with each flavour, nft first, and defaults to nft (upstream's iptables-wrappers logic).
 * IPv6 has the same three, named ip6tables-*: each family's tables are programmed and detected with its own tools.
 */
public record IptablesTools(String variant, String save, String restore, String iptables) {

    private static final Logger LOG = LoggerFactory.getLogger(IptablesTools.class);

    /** Lock flags kube-proxy passes: wait up to 5 s for the xtables lock, polling every 100 ms. */
    public static final List<String> LOCK_WAIT = List.of("-w", "5", "-W", "100000");

    public static final IptablesTools NFT = new IptablesTools("nft", "iptables-nft-save", "iptables-nft-restore", "iptables-nft");
    public static final IptablesTools LEGACY = new IptablesTools("legacy", "iptables-legacy-save", "iptables-legacy-restore",
            "iptables-legacy");
    /** For systems that ship only the unsuffixed names. */
    public static final IptablesTools PLAIN = new IptablesTools("default", "iptables-save", "iptables-restore", "iptables");
    public static final IptablesTools NFT6 = new IptablesTools("nft", "ip6tables-nft-save", "ip6tables-nft-restore", "ip6tables-nft");
    public static final IptablesTools LEGACY6 = new IptablesTools("legacy", "ip6tables-legacy-save", "ip6tables-legacy-restore",
            "ip6tables-legacy");
    public static final IptablesTools PLAIN6 = new IptablesTools("default", "ip6tables-save", "ip6tables-restore", "ip6tables");

    /** The nft and legacy flavours of {@code family}'s tools, in the order detection tries them. */
    public static List<IptablesTools> flavours(IpFamily family) {
        return family == IpFamily.IPv4 ? List.of(NFT, LEGACY) : List.of(NFT6, LEGACY6);
    }

    /** The IPv4 flavour. */
    public static IptablesTools detect(ToolRunner tools) {
        return detect(tools, IpFamily.IPv4);
    }

    /** The flavour of {@code family}'s tools, found with that family's own save (kubelet marks both families' tables). */
    public static IptablesTools detect(ToolRunner tools, IpFamily family) {
        List<IptablesTools> flavours = flavours(family);
        IptablesTools nft = flavours.get(0);
        IptablesTools plain = family == IpFamily.IPv4 ? PLAIN : PLAIN6;
        for (IptablesTools candidate : flavours) {
            try {
                ToolResult result = tools.runAllowingFailure(ToolCommand.of(candidate.save(), "-t", "mangle"));
                if (result.ok() && (result.stdout().contains(":KUBE-IPTABLES-HINT") || result.stdout().contains(":KUBE-KUBELET-CANARY"))) {
                    LOG.info("using {}: kubelet's chains are there", candidate.iptables());
                    return candidate;
                }
            } catch (ToolException e) {
                LOG.debug("{} unavailable: {}", candidate.save(), e.getMessage());
            }
        }
        try {
            if (tools.runAllowingFailure(ToolCommand.of(nft.save(), "-t", "mangle")).ok()) {
                LOG.info("using {}: no kubelet chains found with either flavour, nft is the default", nft.iptables());
                return nft;
            }
        } catch (ToolException e) {
            LOG.debug("{} unavailable: {}", nft.save(), e.getMessage());
        }
        LOG.info("using {}: this system has no {}", plain.restore(), nft.save());
        return plain;
    }

    public ToolCommand restoreCommand(String input) {
        List<String> args = new java.util.ArrayList<>(LOCK_WAIT);
        args.add("--noflush");
        args.add("--counters");
        return new ToolCommand(restore, args, null, null).withStdin(input);
    }

    /**
     * Removes the chains {@code ours(table, chain)} picks (and the jumps into them) with both flavours: a node
     * may carry leftovers of either (e.g. after an iptables-legacy -> nft move). Chains named in {@code keep}
     * ({@code table/chain}) stay: the mode now running shares them.
     *
     * @return for {@code mode}: the chains and rules the restores removed (each restore is atomic, so it removed
     *         all it was given or nothing), and a failure for each flavour that could not be read or changed. A
     *         flavour whose tools are not installed is skipped; both missing is a failure.
     */
    public static CleanupReport removeChains(String mode, ToolRunner tools, java.util.function.BiPredicate<String, String> ours,
            java.util.Set<String> keep) {
        return removeChains(mode, tools, IpFamily.IPv4, ours, keep);
    }

    /** As {@link #removeChains(String, ToolRunner, java.util.function.BiPredicate, java.util.Set)}, in {@code family}'s tables only. */
    public static CleanupReport removeChains(String mode, ToolRunner tools, IpFamily family,
            java.util.function.BiPredicate<String, String> ours,
            java.util.Set<String> keep) {
        CleanupReport report = CleanupReport.of(mode);
        List<String> notInstalled = new java.util.ArrayList<>();
        for (IptablesTools candidate : flavours(family)) {
            try {
                ToolResult saved = tools.runAllowingFailure(ToolCommand.of(candidate.save()));
                if (!saved.ok()) {
                    report = report.failed(candidate.save() + " exited " + saved.exitCode() + ": " + saved.stderr().strip());
                    continue;
                }
                KernelRules kernel = KernelRules.parse(saved.stdout());
                String removal = kernel.removalProgram((table, chain) -> ours.test(table, chain) && !keep.contains(table + "/" + chain));
                if (removal.isEmpty()) {
                    continue;
                }
                tools.run(candidate.restoreCommand(removal));
                Removed removed = Removed.count(kernel, removal);
                LOG.debug("{}: removed {} chains, {} rules", candidate.iptables(), removed.chains(), removed.rules());
                report = report.plus(CleanupReport.CHAINS, removed.chains()).plus(CleanupReport.RULES, removed.rules());
            } catch (ToolNotFoundException e) {
                LOG.info("{} is not installed: {} rules not checked", e.tool(), candidate.iptables());
                notInstalled.add(e.tool());
            } catch (ToolException e) {
                report = report.failed(candidate.iptables() + ": " + e.getMessage());
            }
        }
        if (notInstalled.size() == 2) {
            report = report.failed("neither " + String.join(" nor ", notInstalled) + " is installed: "
                    + (family == IpFamily.IPv4 ? "iptables" : "ip6tables") + " rules not checked");
        }
        return report;
    }

    /** What a removal program takes out: its chains, the rules they held, and the jumps into them from other chains. */
    record Removed(int chains, int rules) {

        static Removed count(KernelRules kernel, String removal) {
            int chains = 0;
            int rules = 0;
            String table = "";
            java.util.Set<String> picked = new java.util.HashSet<>();
            for (String line : removal.split("\n")) {
                if (line.startsWith("*")) {
                    table = line.substring(1);
                    picked.clear();
                } else if (line.startsWith(":")) {
                    picked.add(line.substring(1, line.indexOf(' ')));
                    chains++;
                } else if (line.startsWith("-D ")) {
                    rules++;
                } else if (line.equals("COMMIT")) {
                    for (String rule : kernel.rules(table)) {
                        if (picked.contains(rule.split(" ", 3)[1])) {
                            rules++;
                        }
                    }
                }
            }
            return new Removed(chains, rules);
        }
    }
}
