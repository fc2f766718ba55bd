package io.kubeferry.nftables;

import java.util.ArrayList;
import java.util.List;

/**
 * The seam where a Service's policy chain picks an endpoint: the one place that writes that dispatch. ClientIP
 * affinity rules first ({@code ip saddr @affinity-X goto endpoint-X}), then a cascade without maps, as iptables
 * mode's {@code statistic} probabilities: {@code numgen random mod N 0 goto endpoint-1}, {@code numgen random mod
 * N-1 0 goto endpoint-2}, ..., and a plain {@code goto} to the last endpoint (each endpoint is taken one draw in N).
 * <p>
 * Upstream 1.35.4 writes {@code numgen random mod N vmap { 0 : goto ..., }}, an anonymous map per Service, and
 * adding rules scans every map in the ruleset (k/k#139513): measured on this kernel (NftDispatchBenchmark,
 * docs/benchmarks/nftables-dispatch.md), loading 10,000 Services × 5 endpoints took 29.5 s that way against
 * 3.0 s with the cascade, and 479 ms against 459 ms at 1,000, for the same one-Service change cost. So kube-ferry's
 * Service chains differ from upstream's in these rules (the differential test's allow-list says so); the traffic
 * they give is the same (each endpoint equally likely).
 */
final class ServiceDispatch {

    private ServiceDispatch() {
    }

    /**
     * @param chain          the policy chain (service-... or local-...)
     * @param endpointChains its endpoints' chains, in endpoint order
     * @param affinity       whether ClientIP affinity is on (each endpoint then has its affinity set)
     */
    static List<NftObject.Rule> rules(String chain, List<String> endpointChains, boolean affinity) {
        List<NftObject.Rule> rules = new ArrayList<>(endpointChains.size() + 1);
        if (affinity) {
            for (String ep : endpointChains) {
                rules.add(NftObject.Rule.of(chain, "ip saddr @" + NftNames.affinitySet(ep) + " goto " + ep));
            }
        }
        int n = endpointChains.size();
        for (int i = 0; i < n - 1; i++) {
            rules.add(NftObject.Rule.of(chain, "numgen random mod " + (n - i) + " 0 goto " + endpointChains.get(i)));
        }
        rules.add(NftObject.Rule.of(chain, "goto " + endpointChains.get(n - 1)));
        return rules;
    }
}
