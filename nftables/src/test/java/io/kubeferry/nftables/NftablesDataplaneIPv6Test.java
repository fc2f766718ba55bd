package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.AnsweredTools;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.Fixtures;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static io.kubeferry.nftables.NftablesRendererTest.T;
import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An IPv6 instance beside an IPv4 one on the same (fake) kernel, as the agent runs them on a dual-stack node: each
 * syncs, reads back, checks, loses and cleans up only its own family's table.
 */
class NftablesDataplaneIPv6Test {

    private static final String F4 = NftFamily.IPV4.name();
    private static final String F6 = NftFamily.IPV6.name();
    private static final ServicePortName WEB = Fixtures.name("ns1", "web", "http", Protocol.TCP);

    private final FakeNft nft = new FakeNft();
    private final FakeNftTools tools = new FakeNftTools(nft, List.of("127.0.0.1/8", "198.18.0.1/24", "::1/128", "2001:db8:2::1/64"));
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final ProxyConfig config = ProxyConfig.defaults().withMode("nftables")
            .withClusterCIDRs(List.of("198.18.0.0/16", "2001:db8::/64"));

    private Dataplane instance(IpFamily family) {
        return new NftablesDataplane(new DataplaneContext(config, tools, metrics).withFamily(family));
    }

    /** The dual-stack Service's IPv4 half. */
    private static ProxyState v4(String... endpoints) {
        return Fixtures.state(port("ns1", "web", "http", Protocol.TCP, "198.19.0.10", 80).nodePort(30080)
                .resolve(java.util.Arrays.stream(endpoints).map(ip -> endpoint(ip, 8080))
                        .toArray(io.kubeferry.proxy.model.Endpoint[]::new)));
    }

    /** Its IPv6 half, with the family's ServiceCIDR. */
    private static ProxyState v6(String... endpoints) {
        ProxyState s = Fixtures.state(port("ns1", "web", "http", Protocol.TCP, "2001:db8:1::10", 80).nodePort(30080)
                .resolve(java.util.Arrays.stream(endpoints).map(ip -> endpoint(ip, 8080))
                        .toArray(io.kubeferry.proxy.model.Endpoint[]::new)));
        return new ProxyState(s.node(), s.services(), s.generation(), List.of(Cidr.parse("2001:db8:1::/112")), IpFamily.IPv6);
    }

    @Test
    void bothFamiliesTablesLiveSideBySideEachWrittenByItsOwnInstance() throws DataplaneException {
        Dataplane ipv4 = instance(IpFamily.IPv4);
        Dataplane ipv6 = instance(IpFamily.IPv6);
        ipv4.sync(SyncRequest.full(v4("198.18.0.2")));
        String table4 = nft.dump(F4, T);
        SyncResult first = ipv6.sync(SyncRequest.full(v6("2001:db8::2")));
        assertTrue(first.full());
        assertEquals(table4, nft.dump(F4, T), "the IPv6 instance leaves table ip alone");
        // NodePorts on the primary IPv6 address (the kernel's first non-loopback one: no Node address here), never ::1.
        assertEquals(Set.of("2001:db8:2::1"), nft.elements(F6, T, "nodeport-ips").keySet());
        String service = new NftNames(10).of(WEB).cluster();
        assertEquals("ip6 daddr 2001:db8:1::10 ip6 saddr != 2001:db8::/64 jump mark-for-masquerade", nft.rules(F6, T, service).get(0),
                "the family's clusterCIDR entry detects local traffic");
        assertTrue(nft.rules(F6, T, "cluster-ips-check").contains(
                "ip6 daddr { 2001:db8:1::/112 } drop comment \"Drop traffic to unallocated ClusterIPs\""),
                nft.rules(F6, T, "cluster-ips-check")
                        .toString());
        // A partial sync of the IPv6 half writes table ip6 only.
        SyncResult partial = ipv6.sync(new SyncRequest(v6("2001:db8::2", "2001:db8::3"), Set.of(WEB), false));
        assertFalse(partial.full());
        String sent = tools.commands().get(tools.commands().size() - 1).stdinText();
        assertTrue(sent.contains(" ip6 kube-proxy") && !sent.contains(" ip kube-proxy"), sent);
        assertEquals(table4, nft.dump(F4, T));
    }

    @Test
    void leftoversCanaryAndCleanupArePerFamily() throws DataplaneException {
        Dataplane ipv4 = instance(IpFamily.IPv4);
        Dataplane ipv6 = instance(IpFamily.IPv6);
        assertFalse(ipv6.hasLeftovers());
        ipv4.sync(SyncRequest.full(v4("198.18.0.2")));
        assertFalse(ipv6.hasLeftovers(), "table ip is not the IPv6 instance's leftover");
        ipv6.sync(SyncRequest.full(v6("2001:db8::2")));
        assertTrue(ipv6.hasLeftovers());
        // Someone deletes table ip6: only the IPv6 instance sees its state lost.
        nft.apply(new NftTransaction(F6, T).delete(new NftObject.Table(null)));
        assertTrue(ipv6.kernelStateLost());
        assertFalse(ipv4.kernelStateLost());
        assertTrue(ipv6.sync(new SyncRequest(v6("2001:db8::2"), Set.of(), false)).full());
        assertTrue(nft.hasTable(F6, T));
        assertEquals("nftables mode: removed 1 table", ipv6.cleanup().summary());
        assertFalse(nft.hasTable(F6, T));
        assertTrue(nft.hasTable(F4, T), "cleaning up IPv6 removes only table ip6 kube-proxy");
        assertTrue(tools.commands().stream().anyMatch(c -> c.args().equals(List.of("delete", "table", "ip6", "kube-proxy"))));
        assertFalse(tools.commands().stream().anyMatch(c -> c.args().equals(List.of("delete", "table", "ip", "kube-proxy"))));
    }

    /** A restart reads table ip6 back (nft -j list table ip6 kube-proxy) and, nothing changed, writes nothing. */
    @Test
    void aRestartTakesTheIPv6TableOver() throws DataplaneException {
        instance(IpFamily.IPv6).sync(SyncRequest.full(v6("2001:db8::2", "2001:db8::3")));
        String before = nft.dump(F6, T);
        SyncResult restarted = instance(IpFamily.IPv6).sync(SyncRequest.full(v6("2001:db8::2", "2001:db8::3")));
        assertEquals(1.0,
                metrics.get("kubeferry.nftables.start.readback").tag("outcome", "taken-over").tag("ip_family", "IPv6").counter().count());
        assertEquals(0, restarted.bytesWritten(), "the same objects: nothing written");
        assertEquals(before, nft.dump(F6, T));
        assertTrue(tools.commands().stream().anyMatch(c -> c.args().equals(List.of("-j", "list", "table", "ip6", "kube-proxy"))));
    }

    @Test
    void anIPv6InstancesFailuresCountUnderItsFamily() throws DataplaneException {
        instance(IpFamily.IPv4);
        Dataplane ipv6 = instance(IpFamily.IPv6);
        tools.failNextTransaction("No buffer space available");
        assertThrows(DataplaneException.class, () -> ipv6.sync(SyncRequest.full(v6("2001:db8::2"))));
        assertEquals(1.0, metrics.get("kubeproxy.sync.proxy.rules.nftables.sync.failures").tag("ip_family", "IPv6").counter().count());
        assertEquals(0.0, metrics.get("kubeproxy.sync.proxy.rules.nftables.sync.failures").tag("ip_family", "IPv4").counter().count());
    }

    @Test
    void renderShowsTheIPv6Program() {
        String text = instance(IpFamily.IPv6).render(SyncRequest.full(v6("2001:db8::2")));
        assertTrue(text.startsWith("add table ip6 kube-proxy { comment \"rules for kube-proxy\" ; }\n"), text);
        assertTrue(text.contains("meta l4proto tcp dnat to [2001:db8::2]:8080"), text);
    }

    /**
     * An IPv6 instance refuses a kernel without IPv6 or a namespace with IPv6 disabled, naming why, asking through its
     * tools (so in --netns's namespace, as iptables mode); its probe is table ip6.
     */
    @Test
    void theKernelCheckOfAnIPv6InstanceNeedsIPv6() {
        List<String> probes = new ArrayList<>();
        ToolResult[] sysctl = {new ToolResult(0, "0\n", "")};
        ToolRunner nft = AnsweredTools.of(new FakeNetfilter(), command -> {
            if (command.tool().equals("sysctl")) {
                return command.args().equals(List.of("-n", "net.ipv6.conf.all.disable_ipv6"))
                        ? sysctl[0]
                        : new ToolResult(1, "", "unexpected " + command.args());
            }
            if (command.args().contains("--check")) {
                probes.add(command.stdinText());
            }
            return new ToolResult(0, "nftables v1.0.6 (Lester Gooch #5)\n", "");
        });
        NftablesKernelCheck check = new NftablesKernelCheck(() -> "6.18.0", k -> null);
        assertDoesNotThrow(() -> check.check(nft, NftFamily.IPV6));
        assertTrue(probes.get(probes.size() - 1).startsWith("add table ip6 kube-proxy"), probes.toString());

        sysctl[0] = new ToolResult(0, "1\n", "");
        DataplaneException off = assertThrows(DataplaneException.class, () -> check.check(nft, NftFamily.IPV6));
        assertTrue(off.getMessage().contains("disable_ipv6=1"), off.getMessage());
        assertDoesNotThrow(() -> check.check(nft, NftFamily.IPV4), "IPv4 needs no IPv6");

        sysctl[0] = new ToolResult(255, "", "sysctl: cannot stat /proc/sys/net/ipv6/conf/all/disable_ipv6: No such file or directory");
        DataplaneException none = assertThrows(DataplaneException.class, () -> check.check(nft, NftFamily.IPV6));
        assertTrue(none.getMessage().contains("IPv6 disabled") && none.getMessage().contains("/proc/sys/net/ipv6"), none.getMessage());
        assertDoesNotThrow(() -> check.check(nft, NftFamily.IPV4), "IPv4 needs no IPv6");
    }

    /**
     * nodePortAddresses as upstream's NewNodePortAddresses(family, ...): only the family's CIDRs count, and none of them
     * means every address of the family; ::/0 is every address; keywords hold for both.
     */
    @Test
    void nodePortAddressesCountOnlyTheFamilysCIDRs() {
        List<String> addresses = List.of("2001:db8:2::1", "2001:db8:3::1", "::1");
        assertNull(settings(List.of("198.18.0.0/24"), addresses).nodePortIPs(), "an IPv4-only list opens every IPv6 address");
        assertEquals(List.of("2001:db8:3::1"), settings(List.of("198.18.0.0/24", "2001:db8:3::/64"), addresses).nodePortIPs());
        assertNull(settings(List.of("::/0"), addresses).nodePortIPs());
        assertEquals(List.of("2001:db8:2::1"), settings(List.of(), addresses).nodePortIPs(), "unset: the primary address");
        assertEquals(List.of(), settings(List.of("localhost"), addresses).nodePortIPs(), "never ::1");
        NftablesSettings v4 = NftablesDataplane.settings(config.withNodePortAddresses(List.of("198.18.0.0/24", "2001:db8:3::/64")),
                IpFamily.IPv4, List.of("198.18.0.1", "198.18.1.1"), List.of());
        assertEquals(List.of("198.18.0.1"), v4.nodePortIPs());
        assertEquals("198.18.0.0/16", v4.localCIDR());
    }

    private NftablesSettings settings(List<String> nodePortAddresses, List<String> addresses) {
        NftablesSettings s = NftablesDataplane.settings(config.withNodePortAddresses(nodePortAddresses), IpFamily.IPv6, addresses,
                List.of());
        assertEquals("2001:db8::/64", s.localCIDR());
        return s;
    }
}
