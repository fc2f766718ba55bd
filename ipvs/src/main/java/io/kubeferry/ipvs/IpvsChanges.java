package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.IpFamily;

import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Pure: everything one sync feeds the tools, one input per tool, from what is wanted and what the kernel holds.
 * An empty input means that tool is not run. A sync applies them in this order: sets first (the rules match on
 * them), then kube-ipvs0's addresses and the virtual servers, then the iptables rules.
 *
 * @param full      a full sync: the sets are (re)created and the iptables rules are written
 * @param ipsets    {@code ipset restore -exist} input
 * @param addresses {@code ip -batch -} input for kube-ipvs0's addresses
 * @param plan      the ipvsadm edits and the table they leave
 * @param iptables  {@code iptables-restore --noflush} input: every chain on full syncs; on partial ones only
 *                  KUBE-IPVS-OUT-FILTER, when the load balancers the node may not reach changed (else empty)
 * @param family    the family these are for: its ipset names, and ip6tables-restore for IPv6's rules
 */
record IpvsChanges(boolean full, String ipsets, String addresses, IpvsPlan plan, String iptables, IpFamily family) {

    /** IPv4's changes. */
    IpvsChanges(boolean full, String ipsets, String addresses, IpvsPlan plan, String iptables) {
        this(full, ipsets, addresses, plan, iptables, IpFamily.IPv4);
    }

    /**
     * @param ours     the virtual servers kube-ferry may change or delete ({@link IpvsDiff#owned})
     * @param iptables the rules to restore on a full sync (ignored on a partial one: the other chains depend only
     *                 on settings, and the out-filter is rewritten from {@code desired} when it changed)
     */
    static IpvsChanges between(IpvsRenderer.Desired desired, IpvsKernelState current, Predicate<VirtualServer> ours,
            boolean full, String iptables) {
        return between(desired, current, ours, full, iptables, IpFamily.IPv4);
    }

    /** The same for {@code family}'s instance ({@code current} holds only that family's addresses and sets). */
    static IpvsChanges between(IpvsRenderer.Desired desired, IpvsKernelState current, Predicate<VirtualServer> ours,
            boolean full, String iptables, IpFamily family) {
        String rules = full
                ? iptables
                : desired.noNodeAccess().equals(current.noNodeAccess()) ? "" : IpvsRenderer.outFilter(desired.noNodeAccess());
        return new IpvsChanges(full, IpsetDiff.program(desired.ipsets(), current.ipsets(), full, family),
                IpvsAddresses.program(desired.addresses(), current.addresses()),
                IpvsDiff.between(desired.table(), current.table(), ours, desired.cutAtOnce()), rules, family);
    }

    /** What {@code render} prints: the programs that would build {@code desired} on a node with none of it yet. */
    static IpvsChanges fromScratch(IpvsRenderer.Desired desired, String iptables) {
        return fromScratch(desired, iptables, IpFamily.IPv4);
    }

    /** The same for {@code family}'s instance. */
    static IpvsChanges fromScratch(IpvsRenderer.Desired desired, String iptables, IpFamily family) {
        return between(desired, IpvsKernelState.EMPTY, v -> true, true, iptables, family);
    }

    /** The kernel once these are applied: what the next partial sync diffs against. */
    IpvsKernelState applied(IpvsRenderer.Desired desired) {
        Set<String> desiredKeys = desired.table().realServers().stream().map(RealServer::key).collect(Collectors.toSet());
        return new IpvsKernelState(plan.result(), desiredKeys, desired.addresses(), desired.ipsets(), desired.noNodeAccess());
    }

    /**
     * Each input under a comment heading naming the command it is fed to ({@code render --mode ipvs}'s output);
     * a partial sync's has an iptables section only when it rewrites KUBE-IPVS-OUT-FILTER.
     */
    String text() {
        StringBuilder out = new StringBuilder();
        out.append("# ipset restore -exist\n").append(ipsets);
        out.append("# ip -batch - (addresses on ").append(IpvsAddresses.DEVICE).append(")\n").append(addresses);
        out.append("# ipvsadm -R\n").append(plan.restoreText());
        if (!iptables.isEmpty()) {
            out.append(family == IpFamily.IPv6 ? "# ip6tables-restore" : "# iptables-restore").append(" --noflush --counters\n")
                    .append(iptables);
        }
        return out.toString();
    }

    /** Rules appended by the iptables input (on partial syncs, the out-filter's if it is rewritten, else 0). */
    int iptablesRules() {
        return (int) iptables.lines().filter(l -> l.startsWith("-A ")).count();
    }

    /** Characters fed to the tools, all inputs together. */
    int size() {
        return ipsets.length() + addresses.length() + plan.restoreText().length() + iptables.length();
    }
}
