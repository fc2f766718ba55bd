package io.kubeferry.proxy.testing.trace;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.Fixtures;

import java.util.List;

/**
 * One cluster (its Services, the settings that matter to packet paths) and the packets traced through it.
 * Mode-neutral: each mode syncs {@link #state()} with {@link #config(String)} to its fakes and traces the cases.
 *
 * @param masqueradeAll the masqueradeAll setting
 * @param family        the IP family of every address in it: a mode makes its dataplane for this family
 *                      ({@code DataplaneContext.withFamily}) and its tracer over that family's kernel state, as the
 *                      agent runs one dataplane per family; {@link PacketTable} fails a case traced by a tracer of
 *                      another family
 */
public record PacketScenario(String name, boolean masqueradeAll, List<ResolvedService> services, List<PacketCase> cases,
        IpFamily family) {

    /** The node's address (eth0); the fakes of every mode are given it. */
    public static final String NODE_IP = "198.18.1.1";
    /** The pod CIDR (clusterCIDR): sources outside it are masqueraded on their way to a Service. */
    public static final String CLUSTER_CIDR = "198.18.0.0/24";
    /** The node's IPv6 address (eth0), in IPv6 scenarios. */
    public static final String NODE_IP6 = "2001:db8:2::1";
    /** The IPv6 pod CIDR, the second of a dual-stack cluster's clusterCIDR pair. */
    public static final String CLUSTER_CIDR6 = "2001:db8::/64";

    public PacketScenario {
        java.util.Objects.requireNonNull(family, "family");
        services = List.copyOf(services);
        cases = List.copyOf(cases);
    }

    /** An IPv4 scenario. */
    public PacketScenario(String name, boolean masqueradeAll, List<ResolvedService> services, List<PacketCase> cases) {
        this(name, masqueradeAll, services, cases, IpFamily.IPv4);
    }

    /** The node's address of this scenario's family. */
    public String nodeIP() {
        return family == IpFamily.IPv4 ? NODE_IP : NODE_IP6;
    }

    /**
     * The node's addresses as {@code ip addr} lists them (CIDR form), loopback first: this family's only, as a
     * dataplane of one family reads only its own family's addresses.
     */
    public List<String> addresses() {
        return family == IpFamily.IPv4 ? List.of("127.0.0.1/8", NODE_IP + "/24") : List.of("::1/128", NODE_IP6 + "/64");
    }

    /** The state of this scenario's family. */
    public ProxyState state() {
        ProxyState v4 = Fixtures.state(services.toArray(ResolvedService[]::new));
        return family == IpFamily.IPv4
                ? v4
                : new ProxyState(NodeInfo.named(Fixtures.NODE), v4.services(), v4.generation(), List.of(), family);
    }

    public ProxyConfig config(String mode) {
        // An IPv6 scenario runs in a dual-stack cluster: the IPv6 dataplane must pick its own family's pod CIDR.
        ProxyConfig c = ProxyConfig.defaults().withMode(mode).withHostnameOverride(Fixtures.NODE)
                .withClusterCIDRs(family == IpFamily.IPv4 ? List.of(CLUSTER_CIDR) : List.of(CLUSTER_CIDR, CLUSTER_CIDR6));
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
