package io.kubeferry.iptables;

import io.kubeferry.proxy.model.ServicePortName;

import java.util.Map;
import java.util.Set;

/**
 * One iptables-restore input and what it leaves behind.
 *
 * @param text             the input for {@code iptables-restore --noflush --counters}
 * @param filterRules      rules kube-ferry has in the filter table after it is applied (for metrics)
 * @param natRules         rules kube-ferry has in the nat table after it is applied, written or not
 * @param serviceChains    every per-Service-port nat chain that exists after it is applied
 * @param full             true when every chain was written
 * @param largeCluster     whether per-endpoint comments were left out
 * @param services         each Service port's rules, reused for unchanged ports by the next partial render
 * @param fixedFilterRules filter rules not belonging to any Service port (KUBE-FORWARD)
 * @param fixedNatRules    nat rules not belonging to any Service port (masquerade, the NodePort catch-all)
 */
record RestoreProgram(String text, int filterRules, int natRules, Set<String> serviceChains, boolean full,
        boolean largeCluster, Map<ServicePortName, ServiceRules> services, int fixedFilterRules,
        int fixedNatRules) {

    RestoreProgram {
        serviceChains = Set.copyOf(serviceChains);
        services = Map.copyOf(services);
    }
}
