package io.kubeferry.iptables;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The iptables flavour a node uses (nft or legacy) and its program names. Rules made by one flavour are
 * invisible to the other, so kube-ferry must use the one kubelet uses: it looks for kubelet's hint and
 * canary chains with each flavour, nft first, and defaults to nft (upstream's iptables-wrappers logic).
 */
public record IptablesTools(String variant, String save, String restore, String iptables) {

    private static final Logger LOG = LoggerFactory.getLogger(IptablesTools.class);

    /** Lock flags kube-proxy passes: wait up to 5 s for the xtables lock, polling every 100 ms. */
    public static final List<String> LOCK_WAIT = List.of("-w", "5", "-W", "100000");

    public static final IptablesTools NFT = new IptablesTools("nft", "iptables-nft-save", "iptables-nft-restore", "iptables-nft");
    public static final IptablesTools LEGACY = new IptablesTools("legacy", "iptables-legacy-save", "iptables-legacy-restore", "iptables-legacy");
    /** For systems that ship only the unsuffixed names. */
    public static final IptablesTools PLAIN = new IptablesTools("default", "iptables-save", "iptables-restore", "iptables");

    public static IptablesTools detect(ToolRunner tools) {
        for (IptablesTools candidate : List.of(NFT, LEGACY)) {
            try {
                ToolResult result = tools.runAllowingFailure(ToolCommand.of(candidate.save(), "-t", "mangle"));
                if (result.ok() && (result.stdout().contains(":KUBE-IPTABLES-HINT") || result.stdout().contains(":KUBE-KUBELET-CANARY"))) {
                    LOG.info("using iptables-{}: kubelet's chains are there", candidate.variant());
                    return candidate;
                }
            } catch (ToolException e) {
                LOG.debug("{} unavailable: {}", candidate.save(), e.getMessage());
            }
        }
        try {
            if (tools.runAllowingFailure(ToolCommand.of(NFT.save(), "-t", "mangle")).ok()) {
                LOG.info("using iptables-nft: no kubelet chains found with either flavour, nft is the default");
                return NFT;
            }
        } catch (ToolException e) {
            LOG.debug("{} unavailable: {}", NFT.save(), e.getMessage());
        }
        LOG.info("using {}: this system has no iptables-nft-save", PLAIN.restore());
        return PLAIN;
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
     * @return one message per flavour whose removal failed; empty when all went well
     */
    public static List<String> removeChains(ToolRunner tools, java.util.function.BiPredicate<String, String> ours,
                                            java.util.Set<String> keep) {
        List<String> failures = new java.util.ArrayList<>();
        for (IptablesTools candidate : List.of(NFT, LEGACY)) {
            try {
                ToolResult saved = tools.runAllowingFailure(ToolCommand.of(candidate.save()));
                if (!saved.ok()) {
                    continue;
                }
                String removal = KernelRules.parse(saved.stdout())
                        .removalProgram((table, chain) -> ours.test(table, chain) && !keep.contains(table + "/" + chain));
                if (!removal.isEmpty()) {
                    tools.run(candidate.restoreCommand(removal));
                    LOG.info("removed kube-ferry's iptables-{} chains", candidate.variant());
                }
            } catch (ToolException e) {
                failures.add("iptables-" + candidate.variant() + ": " + e.getMessage());
            }
        }
        return failures;
    }
}
