package io.kubeferry.iptables;

import io.kubeferry.proxy.dataplane.SchedulerInForce;

import java.util.List;
import java.util.Set;

/**
 * What one Service port contributes to the ruleset: its rules in the shared top-level chains (kept as lines
 * so a partial sync can delete exactly these), how many rules its own chains hold, and those chains' names.
 *
 * @param filterTop  rules in filter's KUBE-SERVICES / KUBE-EXTERNAL-SERVICES / KUBE-NODEPORTS / KUBE-PROXY-FIREWALL
 * @param natTop     rules in nat's KUBE-SERVICES / KUBE-NODEPORTS
 * @param chainRules rules inside its own SVC/SVL/EXT/FW/SEP chains
 * @param chains     its own chains
 * @param scheduler  the algorithm in force, and why
 */
record ServiceRules(List<String> filterTop, List<String> natTop, int chainRules, Set<String> chains, SchedulerInForce scheduler) {

    ServiceRules {
        filterTop = List.copyOf(filterTop);
        natTop = List.copyOf(natTop);
        chains = Set.copyOf(chains);
    }

    /** Why the algorithm is not the one the Service asked for ("" when it is). */
    String fallback() {
        return scheduler.why() == SchedulerInForce.Why.FALLBACK ? scheduler.reason() : "";
    }
}
