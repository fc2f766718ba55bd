package io.kubeferry.iptables;

import java.util.List;

/**
 * A rule in a built-in chain (INPUT, OUTPUT, ...) that sends traffic into one of kube-ferry's chains.
 * Upstream's iptablesJumpChains, with the same comments so either proxy recognises the other's rules.
 */
public record JumpRule(String table, String from, String to, String comment, String extra) {

    /** iptables mode's jumps. */
    static final List<JumpRule> ALL = List.of(
            new JumpRule("filter", "INPUT", "KUBE-EXTERNAL-SERVICES", "kubernetes externally-visible service portals", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "FORWARD", "KUBE-EXTERNAL-SERVICES", "kubernetes externally-visible service portals", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "INPUT", "KUBE-NODEPORTS", "kubernetes health check service ports", ""),
            new JumpRule("filter", "FORWARD", "KUBE-SERVICES", "kubernetes service portals", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "OUTPUT", "KUBE-SERVICES", "kubernetes service portals", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "FORWARD", "KUBE-FORWARD", "kubernetes forwarding rules", ""),
            new JumpRule("filter", "INPUT", "KUBE-PROXY-FIREWALL", "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "OUTPUT", "KUBE-PROXY-FIREWALL", "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("filter", "FORWARD", "KUBE-PROXY-FIREWALL", "kubernetes load balancer firewall", "-m conntrack --ctstate NEW"),
            new JumpRule("nat", "OUTPUT", "KUBE-SERVICES", "kubernetes service portals", ""),
            new JumpRule("nat", "PREROUTING", "KUBE-SERVICES", "kubernetes service portals", ""),
            new JumpRule("nat", "POSTROUTING", "KUBE-POSTROUTING", "kubernetes postrouting rules", ""));

    /** The rule body after {@code -I CHAIN}, in the order iptables-save prints it back. */
    public String body() {
        String matches = extra.isEmpty() ? "" : extra + " ";
        return matches + "-m comment --comment \"" + comment + "\" -j " + to;
    }

    /** True when an iptables-save line is this rule (the comment and the target identify it). */
    public boolean matches(String saveLine) {
        return saveLine.startsWith("-A " + from + " ") && saveLine.endsWith("-j " + to)
                && saveLine.contains("\"" + comment + "\"");
    }
}
