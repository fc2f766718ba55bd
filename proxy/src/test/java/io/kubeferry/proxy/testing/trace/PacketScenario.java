package io.kubeferry.proxy.testing.trace;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.Fixtures;

import java.util.List;

/**
 * One cluster (its Services, the settings that matter to packet paths) and the packets traced through it.
 * Mode-neutral: each mode syncs {@link #state()} with {@link #config(String)} to its fakes and traces the cases.
 *
 * @param masqueradeAll the masqueradeAll setting
 */
public record PacketScenario(String name, boolean masqueradeAll, List<ResolvedService> services, List<PacketCase> cases) {

    /** The node's address (eth0); the fakes of every mode are given it. */
    public static final String NODE_IP = "198.18.1.1";
    /** The pod CIDR (clusterCIDR): sources outside it are masqueraded on their way to a Service. */
    public static final String CLUSTER_CIDR = "198.18.0.0/24";

    public PacketScenario {
        services = List.copyOf(services);
        cases = List.copyOf(cases);
    }

    public ProxyState state() {
        return Fixtures.state(services.toArray(ResolvedService[]::new));
    }

    public ProxyConfig config(String mode) {
        ProxyConfig c = ProxyConfig.defaults().withMode(mode).withHostnameOverride(Fixtures.NODE)
                .withClusterCIDRs(List.of(CLUSTER_CIDR));
        ProxyConfig.Iptables i = c.iptables();
        c = c.withIptables(new ProxyConfig.Iptables(masqueradeAll, i.masqueradeBit(), i.localhostNodePorts(),
                i.syncPeriod(), i.minSyncPeriod()));
        try {
            // nftables mode reads its own section's masqueradeAll, as upstream's.
            return c.with(java.util.Map.of("nftables.masqueradeAll", masqueradeAll));
        } catch (io.kubeferry.proxy.config.ConfigException e) {
            throw new IllegalStateException(e);
        }
    }
}
