package io.kubeferry.iptables;

import java.util.List;

/**
 * A rule in a built-in chain (INPUT, OUTPUT, ...) that sends traffic into one of kube-ferry's chains.
 * Upstream's iptablesJumpChains, with the same comments so either proxy recognises the other's rules, then
 * its iptablesKubeletJumpChains: kubelet's own jumps to KUBE-FIREWALL, which carry no comment.
 */
public record JumpRule(String table, String from, String to, String comment, String extra) {

    /** iptables mode's jumps. */
    static final List<JumpRule> ALL = List.of(
            new JumpRule("filter", "INPUT", "KUBE-EXTERNAL-SERVICES", "kubernetes externally-visible service portals",
                    "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "FORWARD", "KUBE-EXTERNAL-SERVICES", "kubernetes externally-visible service portals",
                    "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "INPUT", "KUBE-NODEPORTS", "kubernetes health check service ports", ""),
            new JumpRule("filter", "FORWARD", "KUBE-SERVICES", "kubernetes service portals", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "OUTPUT", "KUBE-SERVICES", "kubernetes service portals", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "FORWARD", "KUBE-FORWARD", "kubernetes forwarding rules", ""),
            new JumpRule("filter", "INPUT", "KUBE-PROXY-FIREWALL", "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "OUTPUT", "KUBE-PROXY-FIREWALL", "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "FORWARD", "KUBE-PROXY-FIREWALL", "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("nat", "OUTPUT", "KUBE-SERVICES", "kubernetes service portals", ""),
            new JumpRule("nat", "PREROUTING", "KUBE-SERVICES", "kubernetes service portals", ""),
            new JumpRule("nat", "POSTROUTING", "KUBE-POSTROUTING", "kubernetes postrouting rules", ""),
            // Upstream ensures these whether or not localhost NodePorts are on (kubelet makes the same two),
            // and last, so they end up first in INPUT and OUTPUT.
            new JumpRule("filter", "INPUT", IptablesRenderer.KUBE_FIREWALL, "", ""),
            new JumpRule("filter", "OUTPUT", IptablesRenderer.KUBE_FIREWALL, "", ""));

    /** The rule body after {@code -I CHAIN}, in the order iptables-save prints it back. */
    public String body() {
        String matches = extra.isEmpty() ? "" : extra + " ";
        String commented = comment.isEmpty() ? "" : "-m comment --comment " + RuleWriter.quoted(comment) + " ";
        return matches + commented + "-j " + to;
    }

    /** True when an iptables-save line is this rule (the comment and the target identify it). */
    public boolean matches(String saveLine) {
        if (comment.isEmpty()) {
            return saveLine.strip().equals("-A " + from + " " + body());
        }
        return saveLine.startsWith("-A " + from + " ") && saveLine.endsWith("-j " + to)
                && saveLine.contains(RuleWriter.quoted(comment));
    }
}
