package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.ServiceEvents;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.Fixtures;
import io.kubeferry.proxy.testing.GoldenFiles;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPVS mode's IPv6 instance: the golden twins of the main IPVS golden files (what {@code render} prints for IPv6,
 * reviewed against upstream's IPv6 IPVS proxier: KUBE-6-* sets of family inet6, /128 addresses, bracketed ipvsadm
 * addresses, ip6tables rules with the IPv6 pod CIDR), and both families' instances on one {@link FakeIpvsKernel},
 * which shares the IPVS table, kube-ipvs0 and the ipsets between them as the kernel does: neither instance's sync,
 * drain or cleanup touches the other's virtual servers, addresses, sets or rules.
 */
class IpvsIpv6Test {

    private static final GoldenFiles GOLDEN = GoldenFiles.standard();
    /** The node's IPv6 addresses, where NodePort virtual servers go (render takes them from the Node object). */
    private static final List<String> NODE_IPS = List.of("2001:db8:2::1", "2001:db8:2::2");
    private static final ProxyConfig CONFIG = ProxyConfig.defaults().withHostnameOverride(Fixtures.NODE).withMode("ipvs")
            .withClusterCIDRs(List.of("198.18.0.0/24", "2001:db8::/64"));

    private final FakeIpvsKernel kernel = new FakeIpvsKernel();

    IpvsIpv6Test() {
        kernel.links.get("eth0").add("2001:db8:2::1");
        kernel.links.get("eth0").add("fe80::1");
        kernel.links.get("lo").add("::1");
    }

    private static ProxyState state6(List<String> nodeAddresses, ResolvedService... services) {
        ProxyState s = Fixtures.state(services);
        return new ProxyState(NodeInfo.named(Fixtures.NODE).withAddresses(nodeAddresses), s.services(), s.generation(), List.of(),
                IpFamily.IPv6);
    }

    private static ProxyState state6(ResolvedService... services) {
        return state6(List.of(), services);
    }

    private IpvsDataplane dataplane(IpFamily family) {
        return new IpvsDataplane(
                new DataplaneContext(CONFIG, kernel, new SimpleMeterRegistry(), ServiceEvents.LOG_ONLY).withFamily(family));
    }

    private static String render(ResolvedService... services) {
        IpvsDataplane d = new IpvsDataplane(new DataplaneContext(CONFIG, new FakeIpvsKernel(), new SimpleMeterRegistry(),
                ServiceEvents.LOG_ONLY).withFamily(IpFamily.IPv6));
        return d.render(SyncRequest.full(state6(NODE_IPS, services)));
    }

    @Test
    void clusterIP() throws IOException {
        ResolvedService svc = port("ns1", "svc1", "p80", Protocol.TCP, "2001:db8:1::10", 80)
                .resolve(localEndpoint("2001:db8::2", 8080), endpoint("2001:db8::3", 8080));
        GOLDEN.check("ipvs-ipv6-clusterip", render(svc));
    }

    @Test
    void nodePort() throws IOException {
        ResolvedService svc = port("ns1", "web", "", Protocol.TCP, "2001:db8:1::11", 80).nodePort(30080)
                .resolve(endpoint("2001:db8::2", 8080));
        GOLDEN.check("ipvs-ipv6-nodeport", render(svc));
    }

    @Test
    void externalIP() throws IOException {
        ResolvedService svc = port("ns1", "ext", "http", Protocol.TCP, "2001:db8:1::12", 80).externalIP("2001:db8:1::100:1")
                .resolve(endpoint("2001:db8::2", 8080));
        GOLDEN.check("ipvs-ipv6-externalip", render(svc));
    }

    @Test
    void loadBalancerWithSourceRanges() throws IOException {
        ResolvedService svc = port("ns1", "lb", "https", Protocol.TCP, "2001:db8:1::13", 443).nodePort(30443)
                .loadBalancerIP("2001:db8:1::200:1").sourceRange("2001:db8::/64").sourceRange("2001:db8:5::/48")
                .resolve(endpoint("2001:db8::2", 8443));
        // As IPv4's twin: a range holding the node's primary address lets the node in (LBIP-as-source entry), the
        // first Service's ranges do not, so KUBE-IPVS-OUT-FILTER (ip6tables) drops the node's packets to it.
        ResolvedService fromNode = port("ns1", "lb-node", "", Protocol.UDP, "2001:db8:1::15", 53)
                .loadBalancerIP("2001:db8:1::200:4").sourceRange("2001:db8:2::/64").resolve(endpoint("2001:db8::3", 5353));
        GOLDEN.check("ipvs-ipv6-loadbalancer-sourceranges", render(svc, fromNode));
    }

    @Test
    void externalTrafficPolicyLocal() throws IOException {
        ResolvedService svc = port("ns1", "local", "", Protocol.TCP, "2001:db8:1::14", 80).nodePort(30081).externalLocal(31000)
                .externalIP("2001:db8:1::100:3").loadBalancerIP("2001:db8:1::200:3")
                .resolve(localEndpoint("2001:db8::2", 8080), endpoint("2001:db8::3", 8080));
        GOLDEN.check("ipvs-ipv6-etp-local", render(svc));
    }

    @Test
    void udpAndSctpNodePorts() throws IOException {
        ResolvedService dns = port("kube-system", "dns", "dns", Protocol.UDP, "2001:db8:1::53", 53).nodePort(30053)
                .resolve(endpoint("2001:db8::5", 53));
        ResolvedService sctp = port("ns1", "sig", "", Protocol.SCTP, "2001:db8:1::20", 3868).nodePort(30868).externalLocal(31001)
                .resolve(localEndpoint("2001:db8::6", 3868));
        GOLDEN.check("ipvs-ipv6-udp-sctp", render(dns, sctp));
    }

    /** Upstream's IPv6 set names: KUBE- becomes KUBE-6-, cut to ipset's 31 characters. */
    @Test
    void ipv6SetNamesAreUpstreams() {
        assertEquals("KUBE-6-CLUSTER-IP", Ipset.CLUSTER_IP.name(IpFamily.IPv6));
        assertEquals("KUBE-6-LOAD-BALANCER-SOURCE-CID", Ipset.LOAD_BALANCER_SOURCE_CIDR.name(IpFamily.IPv6));
        assertEquals("KUBE-6-NODE-PORT-LOCAL-SCTP-HAS", Ipset.NODE_PORT_LOCAL_SCTP.name(IpFamily.IPv6));
        assertEquals("KUBE-CLUSTER-IP", Ipset.CLUSTER_IP.name(IpFamily.IPv4));
        assertTrue(Ipset.ALL.stream().allMatch(s -> s.name(IpFamily.IPv6).length() <= Ipset.MAX_NAME));
        assertEquals("create KUBE-6-LOOP-BACK hash:ip,port,ip family inet6 hashsize 1024 maxelem 65536",
                Ipset.LOOP_BACK.createLine(IpFamily.IPv6));
        assertEquals("create KUBE-6-NODE-PORT-TCP bitmap:port range 0-65535", Ipset.NODE_PORT_TCP.createLine(IpFamily.IPv6));
        assertFalse(Ipset.ours("KUBE-6-CLUSTER-IP", IpFamily.IPv4));
        assertFalse(Ipset.ours("KUBE-CLUSTER-IP", IpFamily.IPv6));
    }

    @Test
    void anIpv6SyncProgramsIpv6ServersAddressesSetsAndIp6tablesRulesOnly() throws Exception {
        IpvsDataplane d = dataplane(IpFamily.IPv6);
        d.sync(SyncRequest.full(state6(
                port("default", "web", "http", Protocol.TCP, "2001:db8:1::10", 80).nodePort(30080)
                        .resolve(localEndpoint("2001:db8::11", 8080), endpoint("2001:db8::12", 8080)))));

        assertEquals("-A -t [2001:db8:1::10]:80 -s rr", kernel.services.get("-t [2001:db8:1::10]:80"));
        assertEquals(Set.of("[2001:db8::11]:8080", "[2001:db8::12]:8080"), kernel.reals.get("-t [2001:db8:1::10]:80").keySet());
        // The NodePort on the node's global address only: not on ::1, fe80::1, kube-ipvs0's or any IPv4 address.
        assertEquals(Set.of("-t [2001:db8:1::10]:80", "-t [2001:db8:2::1]:30080"), kernel.services.keySet());
        assertEquals(Set.of("2001:db8:1::10"), kernel.links.get("kube-ipvs0"));
        assertTrue(kernel.commands("ip").stream().anyMatch(c -> "address add 2001:db8:1::10/128 dev kube-ipvs0\n".equals(c.stdinText())));

        assertEquals(Set.of("2001:db8:1::10,tcp:80"), kernel.ipsets.get("KUBE-6-CLUSTER-IP"));
        assertEquals(Set.of("2001:db8::11,tcp:8080,2001:db8::11"), kernel.ipsets.get("KUBE-6-LOOP-BACK"));
        assertEquals(Set.of("30080"), kernel.ipsets.get("KUBE-6-NODE-PORT-TCP"));
        assertTrue(kernel.ipsets.keySet().stream().allMatch(n -> n.startsWith("KUBE-6-")), kernel.ipsets.keySet().toString());
        assertTrue(kernel.commands("ipset").stream().anyMatch(c -> c.stdinText() != null
                && c.stdinText().contains("create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536\n")));

        List<String> services = kernel.netfilter.rules(IpFamily.IPv6, "nat", "KUBE-SERVICES");
        assertTrue(
                services.contains("! -s 2001:db8::/64 -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\""
                        + " -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ"),
                services.toString());
        assertTrue(kernel.netfilter.rules(IpFamily.IPv6, "filter", "INPUT").stream().anyMatch(r -> r.endsWith("-j KUBE-IPVS-FILTER")));
        assertNull(kernel.netfilter.rules(IpFamily.IPv4, "nat", "KUBE-SERVICES"), "IPv4's iptables are not the IPv6 instance's");
        // iptables-save -t mangle only reads: the flavour (nft, legacy) is found by kubelet's IPv4 hint chains.
        assertTrue(kernel.commands.stream().noneMatch(c -> c.tool().startsWith("iptables") && !c.tool().endsWith("-save")),
                "only ip6tables writes: " + kernel.commands.stream().map(ToolCommand::tool).distinct().toList());
        assertEquals("1", kernel.netfilter.sysctl("net.ipv4.vs.conntrack"), "IPVS's own sysctls serve both families");
        assertNull(kernel.netfilter.sysctl("net.ipv4.ip_forward"), "IPv4's forwarding is the IPv4 instance's");
    }

    private IpvsDataplane dataplane(ProxyConfig config) {
        return new IpvsDataplane(
                new DataplaneContext(config, kernel, new SimpleMeterRegistry(), ServiceEvents.LOG_ONLY).withFamily(IpFamily.IPv6));
    }

    /**
     * As upstream's NewNodePortAddresses(IPv6, ...): a nodePortAddresses list with no IPv6 CIDR means every IPv6
     * address (::/0), so an IPv4-only list leaves the IPv6 instance's NodePorts on every IPv6 node address, in sync and
     * render alike.
     */
    @Test
    void anIpv4OnlyNodePortAddressesListOpensIpv6NodePortsOnEveryIpv6Address() throws Exception {
        ProxyConfig config = CONFIG.withNodePortAddresses(List.of("198.18.0.0/15"));
        ResolvedService svc = port("default", "web", "http", Protocol.TCP, "2001:db8:1::10", 80).nodePort(30080)
                .resolve(endpoint("2001:db8::12", 8080));
        dataplane(config).sync(SyncRequest.full(state6(svc)));
        assertEquals(Set.of("-t [2001:db8:1::10]:80", "-t [2001:db8:2::1]:30080"), kernel.services.keySet());

        String rendered = new IpvsDataplane(new DataplaneContext(config, new FakeIpvsKernel(), new SimpleMeterRegistry(),
                ServiceEvents.LOG_ONLY).withFamily(IpFamily.IPv6)).render(SyncRequest.full(state6(NODE_IPS, svc)));
        assertTrue(rendered.contains("-A -t [2001:db8:2::1]:30080") && rendered.contains("-A -t [2001:db8:2::2]:30080"), rendered);
    }

    /** nodePortAddresses' primary is the Node object's IPv6 address, not whichever the kernel lists first. */
    @Test
    void theIpv6PrimaryIsTheNodeObjectsAddress() throws Exception {
        kernel.links.put("br0", new TreeSet<>(List.of("2001:db8:3::1")));
        IpvsDataplane d = dataplane(CONFIG.withNodePortAddresses(List.of("primary")));
        ResolvedService svc = port("default", "web", "http", Protocol.TCP, "2001:db8:1::10", 80).nodePort(30080)
                .resolve(endpoint("2001:db8::12", 8080));
        d.sync(SyncRequest.full(state6(List.of("2001:db8:2::1"), svc)));
        assertEquals(Set.of("-t [2001:db8:1::10]:80", "-t [2001:db8:2::1]:30080"), kernel.services.keySet());

        // The Node's address changes: the next sync, even a partial one, moves the NodePort with it.
        d.sync(new SyncRequest(state6(List.of("2001:db8:3::1"), svc), Set.of(), false));
        assertEquals(Set.of("-t [2001:db8:1::10]:80", "-t [2001:db8:3::1]:30080"), kernel.services.keySet());
    }

    /**
     * Both instances on one kernel: each sync, partial or full, each drain and each cleanup of one family leaves
     * every virtual server, real server (draining ones too), address, set and rule of the other as it was.
     */
    @Test
    void theTwoFamiliesInstancesNeverTouchEachOthersState() throws Exception {
        IpvsDataplane v4 = dataplane(IpFamily.IPv4);
        IpvsDataplane v6 = dataplane(IpFamily.IPv6);
        ResolvedService web4 = port("default", "web", "http", Protocol.TCP, "198.19.0.1", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.11", 8080), endpoint("198.18.0.12", 8080));
        ResolvedService web6 = port("default", "web", "http", Protocol.TCP, "2001:db8:1::1", 80).nodePort(30080)
                .resolve(endpoint("2001:db8::11", 8080), endpoint("2001:db8::12", 8080));
        v4.sync(SyncRequest.full(Fixtures.state(web4)));
        v6.sync(SyncRequest.full(state6(web6)));
        String ipv4Programmed = ipv4Part();
        String ipv6Programmed = ipv6Part();
        assertTrue(ipv4Programmed.contains("198.19.0.1:80") && ipv6Programmed.contains("[2001:db8:1::1]:80"));

        // Both lose an endpoint (TCP real servers: they drain at weight 0); neither has connections, so IPv6's
        // housekeeping deletes IPv6's at once, and must leave IPv4's to IPv4's instance.
        ResolvedService web4After = port("default", "web", "http", Protocol.TCP, "198.19.0.1", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.11", 8080));
        ResolvedService web6After = port("default", "web", "http", Protocol.TCP, "2001:db8:1::1", 80).nodePort(30080)
                .resolve(endpoint("2001:db8::11", 8080));
        v4.sync(new SyncRequest(Fixtures.state(web4After), Set.of(web4After.name()), false));
        v6.sync(new SyncRequest(state6(web6After), Set.of(web6After.name()), false));
        assertTrue(kernel.reals.get("-t 198.19.0.1:80").get("198.18.0.12:8080").endsWith("-w 0"));
        assertTrue(kernel.reals.get("-t [2001:db8:1::1]:80").get("[2001:db8::12]:8080").endsWith("-w 0"));
        v6.housekeeping();
        assertFalse(kernel.reals.get("-t [2001:db8:1::1]:80").containsKey("[2001:db8::12]:8080"), "IPv6's drained one goes");
        assertTrue(kernel.reals.get("-t 198.19.0.1:80").containsKey("198.18.0.12:8080"), "IPv4's draining real server is IPv4's");
        String ipv4Draining = ipv4Part();

        // An IPv6 full sync with no Services removes IPv6's everything and nothing of IPv4's; and the other way round.
        v6.sync(SyncRequest.full(ProxyState.empty(NodeInfo.named(Fixtures.NODE), IpFamily.IPv6)));
        assertEquals(ipv4Draining, ipv4Part());
        assertTrue(kernel.services.keySet().stream().noneMatch(k -> k.contains("[")), kernel.services.keySet().toString());
        assertTrue(kernel.ipsets.getOrDefault("KUBE-6-CLUSTER-IP", new TreeSet<>()).isEmpty());
        v6.sync(SyncRequest.full(state6(web6)));
        assertEquals(ipv6Programmed, ipv6Part());
        v4.sync(SyncRequest.full(ProxyState.empty(NodeInfo.named(Fixtures.NODE))));
        assertEquals(ipv6Programmed, ipv6Part());

        // Cleanup of one family keeps kube-ipvs0 while the other has addresses on it; the last one takes it.
        v4.sync(SyncRequest.full(Fixtures.state(web4)));
        assertTrue(v6.hasLeftovers());
        CleanupReport six = v6.cleanup();
        assertEquals(List.of(), six.failures());
        assertEquals(ipv4Programmed, ipv4Part(), "the IPv6 cleanup left IPv4 as it was");
        assertTrue(kernel.links.containsKey("kube-ipvs0"), "IPv4 still has its addresses there");
        assertFalse(v6.hasLeftovers(), "nothing of IPv6's left");
        assertTrue(kernel.ipsets.keySet().stream().noneMatch(n -> n.startsWith("KUBE-6-")), kernel.ipsets.keySet().toString());
        assertTrue(kernel.netfilter.chains(IpFamily.IPv6, "nat").stream().noneMatch(c -> c.startsWith("KUBE-")));
        CleanupReport four = v4.cleanup();
        assertEquals(List.of(), four.failures());
        assertFalse(kernel.links.containsKey("kube-ipvs0"));
        assertEquals(Map.of(), kernel.services);
        assertTrue(kernel.ipsets.isEmpty(), kernel.ipsets.keySet().toString());
    }

    /** The IPv4 side of the fake kernel: virtual and real servers, kube-ipvs0's IPv4 addresses, sets and iptables. */
    private String ipv4Part() {
        return part(false) + kernel.netfilter.chains(IpFamily.IPv4, "nat").stream().sorted()
                .map(c -> c + kernel.netfilter.rules(IpFamily.IPv4, "nat", c)).toList();
    }

    private String ipv6Part() {
        return part(true) + kernel.netfilter.chains(IpFamily.IPv6, "nat").stream().sorted()
                .map(c -> c + kernel.netfilter.rules(IpFamily.IPv6, "nat", c)).toList();
    }

    private String part(boolean v6) {
        StringBuilder out = new StringBuilder();
        kernel.services.forEach((key, line) -> {
            if (key.contains("[") == v6) {
                out.append(line).append(' ').append(kernel.reals.getOrDefault(key, Map.of()).values()).append('\n');
            }
        });
        kernel.links.getOrDefault("kube-ipvs0", new TreeSet<>()).stream().filter(a -> a.contains(":") == v6)
                .forEach(a -> out.append(a).append('\n'));
        kernel.ipsets.forEach((name, members) -> {
            if (name.startsWith("KUBE-6-") == v6) {
                out.append(name).append(members).append('\n');
            }
        });
        return out.toString();
    }

    @Test
    void anIpv6InstanceSaysWhyWhenIpv6IsOff() throws Exception {
        kernel.ipv6InKernel = false;
        DataplaneException missing = assertThrows(DataplaneException.class, () -> dataplane(IpFamily.IPv6).checkKernel());
        assertTrue(missing.getMessage().startsWith("IPv6 is disabled in this kernel"), missing.getMessage());
        kernel.ipv6InKernel = true;

        kernel.netfilter.runAllowingFailure(ToolCommand.of("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"));
        DataplaneException off = assertThrows(DataplaneException.class, () -> dataplane(IpFamily.IPv6).checkKernel());
        assertTrue(off.getMessage().contains("net.ipv6.conf.all.disable_ipv6=1"), off.getMessage());
    }

    @Test
    void anIpv6InstanceProbesItsSchedulerWithAnIpv6VirtualServer() throws Exception {
        dataplane(IpFamily.IPv6).checkKernel();
        List<String> probes = kernel.commands("ipvsadm").stream().filter(c -> c.args().equals(List.of("-R"))).map(ToolCommand::stdinText)
                .toList();
        assertEquals(List.of("-A -t [2001:2::fffe]:20000 -s rr\n", "-D -t [2001:2::fffe]:20000\n"), probes);
        assertEquals(Map.of(), kernel.services);
    }
}
