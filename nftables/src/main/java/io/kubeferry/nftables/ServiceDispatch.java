package io.kubeferry.nftables;

import java.util.ArrayList;
import java.util.List;

/**
 * The seam where a Service's policy chain picks an endpoint: the one place that writes that dispatch, so its
 * shape can change without touching the rest of the renderer. Now upstream 1.35.4's: ClientIP affinity rules
 * first ({@code ip saddr @affinity-X goto endpoint-X}), then {@code numgen random mod N vmap { 0 : goto ..., }}.
 * Upstream's inline vmap is an anonymous map per Service, the cause of its slow syncs at scale (k/k#139513: adding
 * rules scans every map; k/k PR #140723, July 2026, after 1.35, writes a plain goto for single-endpoint
 * Services: a kube-proxy newer than the 1.35.4 peer differs here); which shape
 * kube-ferry keeps at 10,000 Services is decided from measurements, here.
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
        StringBuilder vmap = new StringBuilder(32 + endpointChains.size() * 64);
        vmap.append("numgen random mod ").append(endpointChains.size()).append(" vmap { ");
        for (int i = 0; i < endpointChains.size(); i++) {
            vmap.append(i).append(" : goto ").append(endpointChains.get(i)).append(i < endpointChains.size() - 1 ? " , " : " ");
        }
        rules.add(NftObject.Rule.of(chain, vmap.append('}').toString()));
        return rules;
    }
}
