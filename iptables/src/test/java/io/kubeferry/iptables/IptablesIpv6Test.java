package io.kubeferry.iptables;

import io.kubeferry.proxy.config.NodePortAddresses;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolNotFoundException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.Fixtures;
import io.kubeferry.proxy.testing.GoldenFiles;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * iptables mode for IPv6: the golden files are the IPv6 twins of the IPv4 ones (each reviewed against upstream's
 * proxier.go of 1.35: the same program but for {@code ! -d ::1/128} on the NodePorts jump and no localhost NodePorts
 * or KUBE-FIREWALL martian rule), rendered as {@code kube-ferry render} renders them (the dataplane made for IPv6
 * from the configuration), and the instance against a fake kernel whose ip6tables tables are apart from iptables'.
 */
class IptablesIpv6Test {

    private static final GoldenFiles GOLDEN = GoldenFiles.standard();
    /** A dual-stack cluster: each family's dataplane picks its own pod CIDR. */
    private static final ProxyConfig DUAL = ProxyConfig.defaults().withClusterCIDRs(List.of("198.18.0.0/16", "2001:db8::/64"));
    private static final String NODE6 = "2001:db8:2::1";

    private static Dataplane dataplane(ProxyConfig config, IpFamily family, ToolRunner tools) {
        return DataplaneProvider.forMode("iptables")
                .create(new DataplaneContext(config, tools, new SimpleMeterRegistry()).withFamily(family));
    }

    /** An IPv6 state on a node whose (IPv6) address is {@link #NODE6}. */
    private static ProxyState v6(ResolvedService... services) {
        return state(IpFamily.IPv6, List.of(NODE6), services);
    }

    private static ProxyState state(IpFamily family, List<String> nodeAddresses, ResolvedService... services) {
        TreeMap<ServicePortName, ResolvedService> map = new TreeMap<>();
        for (ResolvedService s : services) {
            map.put(s.name(), s);
        }
        return new ProxyState(NodeInfo.named(Fixtures.NODE).withAddresses(nodeAddresses), map, 1, List.of(), family);
    }

    private static String render(ProxyConfig config, ProxyState state) {
        return dataplane(config, state.family(), new FakeNetfilter()).render(SyncRequest.full(state));
    }

    /** ClusterIP, NodePort and a load balancer IP with source ranges (one holds the node: its LB IPs may be sources too). */
    @Test
    void loadBalancerWithNodePortAndSourceRanges() throws IOException {
        ResolvedService svc = port("ns1", "lb", "https", Protocol.TCP, "2001:db8:1::13", 443).nodePort(30443)
                .loadBalancerIP("2001:db8:1::200:1").sourceRange("2001:db8:2::/64").sourceRange("2001:db8:ff::/56")
                .resolve(endpoint("2001:db8::2", 8443));
        String text = render(DUAL, v6(svc));
        GOLDEN.check("loadbalancer-sourceranges-ipv6", text);
        assertTrue(text.contains("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last"
                + " rule in this chain\" -m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS"), text);
        assertFalse(text.contains("127.0.0.0/8"), "nothing of IPv4's loopback in the IPv6 program");
        assertFalse(text.contains("block incoming localnet connections"), "no martian guard: route_localnet is IPv4's");
        assertTrue(text.contains("--to-destination [2001:db8::2]:8443"), text);
        assertTrue(text.contains("! -s 2001:db8::/64 -j KUBE-MARK-MASQ"), "the IPv6 pod CIDR of the pair");
    }

    @Test
    void externalTrafficPolicyLocal() throws IOException {
        ResolvedService svc = port("ns1", "local", "", Protocol.TCP, "2001:db8:1::14", 80).nodePort(30081).externalLocal(31000)
                .resolve(localEndpoint("2001:db8::2", 8080), endpoint("2001:db8::3", 8080));
        GOLDEN.check("etp-local-ipv6", render(DUAL, v6(svc)));
    }

    @Test
    void clientIPAffinity() throws IOException {
        ResolvedService svc = port("ns1", "sticky", "", Protocol.TCP, "2001:db8:1::17", 80).sticky(10800)
                .resolve(endpoint("2001:db8::2", 8080), endpoint("2001:db8::3", 8080));
        String text = render(DUAL, v6(svc));
        GOLDEN.check("affinity-ipv6", text);
        // Upstream's recent match has no --mask: the whole source address is the key, in either family.
        assertFalse(text.contains("--mask"), text);
    }

    @Test
    void noEndpoints() throws IOException {
        ResolvedService svc = port("ns1", "empty", "", Protocol.TCP, "2001:db8:1::18", 80).nodePort(30082)
                .externalIP("2001:db8:1::100:2").loadBalancerIP("2001:db8:1::200:2").resolve();
        GOLDEN.check("no-endpoints-ipv6", render(DUAL, v6(svc)));
    }

    /**
     * localhost NodePorts configured on, nodePortAddresses naming loopback of both families: the IPv4 program opens
     * NodePorts on 127.0.0.1, the IPv6 one never on ::1 (upstream: "localhost NodePorts are not supported on IPv6").
     */
    @Test
    void noLocalhostNodePortsForIpv6() throws IOException {
        ProxyConfig config = DUAL.withNodePortAddresses(List.of("127.0.0.0/8", "::1/128", "2001:db8:2::/64", "198.18.1.0/24"));
        assertTrue(config.iptables().localhostNodePorts());
        ResolvedService v4 = port("ns1", "web", "", Protocol.TCP, "198.19.0.11", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.2", 8080));
        ResolvedService v6 = port("ns1", "web", "", Protocol.TCP, "2001:db8:1::11", 80).nodePort(30080)
                .resolve(endpoint("2001:db8::2", 8080));
        String four = render(config, state(IpFamily.IPv4, List.of("127.0.0.1", "198.18.1.1"), v4));
        String six = render(config, state(IpFamily.IPv6, List.of("::1", NODE6), v6));
        GOLDEN.check("nodeport-addresses-ipv6", six);
        assertTrue(four.contains("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last"
                + " rule in this chain\" -d 127.0.0.1 -j KUBE-NODEPORTS"), four);
        assertTrue(four.contains("block incoming localnet connections"), four);
        assertTrue(six.contains("-d 2001:db8:2::1 -j KUBE-NODEPORTS"), six);
        assertFalse(six.contains("-d ::1 -j KUBE-NODEPORTS"), six);
        assertFalse(six.contains("block incoming localnet connections"), six);
        assertFalse(IptablesDataplane.baseSettings(config, IpFamily.IPv6).localhostNodePorts());
    }

    /** nodePortAddresses with IPv4 CIDRs only: IPv6 NodePorts open on every local address, as upstream's per-family list. */
    @Test
    void nodePortAddressesOfTheOtherFamilyOnlyMeanAll() {
        ProxyConfig config = DUAL.withNodePortAddresses(List.of("198.18.1.0/24"));
        assertNull(IptablesDataplane.baseSettings(config, IpFamily.IPv6).nodePortIPs());
        assertNotNull(IptablesDataplane.baseSettings(config, IpFamily.IPv4).nodePortIPs());
        assertEquals("2001:db8::/64", IptablesDataplane.baseSettings(config, IpFamily.IPv6).localCIDR());
        assertEquals("198.18.0.0/16", IptablesDataplane.baseSettings(config, IpFamily.IPv4).localCIDR());
    }

    /**
     * A dual-stack Service appears in both programs, each with its own family's addresses; its SVC chain name is the
     * same in both (the hash of "ns/svc:port" and the protocol), its SEP names differ ("[ip]:port" for IPv6).
     */
    @Test
    void aDualStackServiceIsInBothPrograms() throws IOException {
        ResolvedService v4 = port("ns1", "dual", "http", Protocol.TCP, "198.19.0.30", 80).nodePort(30030)
                .resolve(endpoint("198.18.0.2", 8080));
        ResolvedService v6 = port("ns1", "dual", "http", Protocol.TCP, "2001:db8:1::30", 80).nodePort(30030)
                .resolve(endpoint("2001:db8::2", 8080));
        String four = render(DUAL, state(IpFamily.IPv4, List.of("198.18.1.1"), v4));
        String six = render(DUAL, v6(v6));
        GOLDEN.check("dual-stack-ipv4", four);
        GOLDEN.check("dual-stack-ipv6", six);
        ChainNames names = new ChainNames(10);
        String svc = names.of(v4.name()).cluster();
        assertTrue(four.contains(":" + svc + " ") && six.contains(":" + svc + " "), "one SVC chain name for both families");
        String sep4 = names.endpoint(v4.name(), v4.allEndpoints().get(0));
        String sep6 = names.endpoint(v6.name(), v6.allEndpoints().get(0));
        assertEquals(ChainNames.SEP + ChainNames.hash("ns1/dual:httptcp[2001:db8::2]:8080"), sep6, "upstream's hash input");
        assertTrue(four.contains(sep4) && !four.contains(sep6) && six.contains(sep6) && !six.contains(sep4));
        assertFalse(four.contains("2001:db8") || six.contains("198.1"), "each program has only its own family's addresses");
    }

    /** The IPv6 instance writes only ip6tables' tables, the IPv4 one only iptables'; cleaning one leaves the other. */
    @Test
    void eachFamilyProgramsItsOwnTables() throws Exception {
        FakeNetfilter kernel = new FakeNetfilter();
        kernel.setAddresses(List.of("127.0.0.1/8", "198.18.1.1/24", "::1/128", NODE6 + "/64"));
        Dataplane four = dataplane(DUAL, IpFamily.IPv4, kernel);
        Dataplane six = dataplane(DUAL, IpFamily.IPv6, kernel);
        ResolvedService v4 = port("ns1", "dual", "", Protocol.TCP, "198.19.0.30", 80).resolve(endpoint("198.18.0.2", 8080));
        ResolvedService v6 = port("ns1", "dual", "", Protocol.TCP, "2001:db8:1::30", 80).resolve(endpoint("2001:db8::2", 8080));
        four.sync(SyncRequest.full(state(IpFamily.IPv4, List.of(), v4)));
        six.sync(SyncRequest.full(state(IpFamily.IPv6, List.of(), v6)));
        assertEquals(1, kernel.commands("ip6tables-nft-restore").size());
        assertEquals(1, kernel.commands("iptables-nft-restore").size());
        assertTrue(kernel.commands("sysctl").stream().noneMatch(c -> c.args().contains("-w") && c.args().toString().contains("ipv6")));
        String svc = new ChainNames(10).of(v6.name()).cluster();
        assertTrue(String.join("\n", kernel.rules(IpFamily.IPv6, "nat", svc)).contains("2001:db8::2"));
        assertTrue(String.join("\n", kernel.rules(IpFamily.IPv4, "nat", svc)).contains("198.18.0.2"));
        assertFalse(String.join("\n", kernel.rules(IpFamily.IPv4, "nat", "KUBE-SERVICES")).contains("2001:db8"));

        assertFalse(six.kernelStateLost());
        CleanupReport report = six.cleanup();
        assertTrue(report.ok(), report.toString());
        assertNull(kernel.rules(IpFamily.IPv6, "nat", svc), "the IPv6 chains are gone");
        assertNotNull(kernel.rules(IpFamily.IPv4, "nat", svc), "the IPv4 ones stay");
        assertTrue(four.hasLeftovers() && !six.hasLeftovers());
    }

    @Test
    void requiredToolsOfIpv6AreIp6tables() {
        DataplaneProvider provider = DataplaneProvider.forMode("iptables");
        assertEquals(provider.requiredTools(), provider.requiredTools(IpFamily.IPv4));
        assertTrue(provider.requiredTools(IpFamily.IPv6).containsAll(List.of("ip6tables-restore", "ip6tables-save", "ip6tables")));
        assertFalse(provider.requiredTools(IpFamily.IPv6).contains("iptables-restore"));
        assertEquals(Set.of(IpFamily.IPv4, IpFamily.IPv6), provider.families());
    }

    @Test
    void checkKernelPassesWithIpv6AndIp6tables() throws Exception {
        dataplane(DUAL, IpFamily.IPv6, answering(false, "0", true)).checkKernel();
        dataplane(DUAL, IpFamily.IPv4, answering(true, "", false)).checkKernel();
    }

    @Test
    void checkKernelFailsWithAReasonWithoutIpv6() {
        DataplaneException noProc = assertThrows(DataplaneException.class,
                () -> dataplane(DUAL, IpFamily.IPv6, answering(true, "", true)).checkKernel());
        assertTrue(noProc.getMessage().contains("IPv6 is not available in this kernel"), noProc.getMessage());
        DataplaneException off = assertThrows(DataplaneException.class,
                () -> dataplane(DUAL, IpFamily.IPv6, answering(false, "1", true)).checkKernel());
        assertTrue(off.getMessage().contains("disable_ipv6=1"), off.getMessage());
        DataplaneException missing = assertThrows(DataplaneException.class,
                () -> dataplane(DUAL, IpFamily.IPv6, answering(false, "0", false)).checkKernel());
        assertTrue(missing.getMessage().contains("ip6tables is not installed"), missing.getMessage());
    }

    /**
     * A node's tools: sysctl answers net.ipv6.conf.all.disable_ipv6 ({@code noProc}: as a kernel booted with
     * ipv6.disable=1, which has no /proc/sys/net/ipv6), ip6tables-* installed or not.
     */
    private static ToolRunner answering(boolean noProc, String disabled, boolean ip6tables) {
        FakeNetfilter kernel = new FakeNetfilter();
        return new ToolRunner() {

            @Override
            public ToolResult run(ToolCommand command) throws ToolException {
                ToolResult r = runAllowingFailure(command);
                if (!r.ok()) {
                    throw new ToolException(command.display() + ": " + r.stderr(), r);
                }
                return r;
            }

            @Override
            public ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
                if (command.tool().equals("sysctl")) {
                    return noProc
                            ? new ToolResult(255, "",
                                    "sysctl: cannot stat /proc/sys/net/ipv6/conf/all/disable_ipv6: No such file or directory")
                            : new ToolResult(0, disabled + "\n", "");
                }
                if (command.tool().startsWith("ip6tables") && !ip6tables) {
                    throw new ToolNotFoundException(command.tool(), "tool not found: " + command.tool());
                }
                return kernel.runAllowingFailure(command);
            }
        };
    }

    /** The node's primary IP is the Node object's (upstream's nodeIP), whatever the kernel lists first (a pod bridge). */
    @Test
    void thePrimaryIpIsTheNodeObjects() {
        List<String> kernel = List.of("::1", "2001:db8::1", NODE6);
        assertEquals(List.of(NODE6, "::1", "2001:db8::1"), NodePortAddresses.primaryFirst(List.of(NODE6), kernel));
        assertEquals(kernel, NodePortAddresses.primaryFirst(List.of(), kernel), "no Node address: the kernel's order");
    }

    /**
     * Source hashing hashes the whole IPv6 client address ({@code --hmark-src-prefix 128}; a /32 would put every
     * client of 2001:db8::/32 in one slot): many clients spread over every endpoint, each client always to one.
     */
    @Test
    void sourceHashHashesTheWholeIpv6Address() throws Exception {
        FakeNetfilter kernel = new FakeNetfilter();
        kernel.setAddresses(List.of("::1/128", NODE6 + "/64"));
        ResolvedService svc = port("ns1", "sh", "", Protocol.TCP, "2001:db8:1::40", 80)
                .option(io.kubeferry.proxy.scheduler.SchedulerCatalog.SCHEDULER_KEY, "source-hash")
                .resolve(endpoint("2001:db8::2", 8080), endpoint("2001:db8::3", 8080), endpoint("2001:db8::4", 8080));
        dataplane(DUAL, IpFamily.IPv6, kernel).sync(SyncRequest.full(v6(svc)));
        String svcChain = new ChainNames(10).of(svc.name()).cluster();
        assertTrue(kernel.rules(IpFamily.IPv6, "nat", svcChain).stream()
                .allMatch(r -> !r.contains("HMARK") || r.contains("--hmark-src-prefix 128")));
        io.kubeferry.proxy.testing.trace.NetfilterTracer tracer = new io.kubeferry.proxy.testing.trace.NetfilterTracer("iptables",
                IpFamily.IPv6, kernel, Set.of(NODE6), io.kubeferry.proxy.testing.trace.NetfilterTracer.Ipsets.NONE,
                io.kubeferry.proxy.testing.trace.NetfilterTracer.VirtualServers.NONE).sampling(new java.util.Random(5));
        java.util.Map<String, String> chosen = new java.util.HashMap<>();
        for (int c = 0; c < 300; c++) {
            String client = "2001:db8:7::" + Integer.toHexString(c + 1);
            for (int again = 0; again < 2; again++) {
                var ends = tracer.trace(io.kubeferry.proxy.testing.trace.Packet.tcp(io.kubeferry.proxy.testing.trace.Packet.Origin.OUTSIDE,
                        client, "2001:db8:1::40", 80)).outcome().ends();
                assertEquals(1, ends.size(), ends.toString());
                String endpoint = ends.first().endpoint();
                assertEquals(chosen.getOrDefault(client, endpoint), endpoint, "one client, one endpoint");
                chosen.put(client, endpoint);
            }
        }
        assertEquals(Set.of("[2001:db8::2]:8080", "[2001:db8::3]:8080", "[2001:db8::4]:8080"), Set.copyOf(chosen.values()));
    }

    /** The renderer's settings for IPv6 never have localhost NodePorts, whatever they are built from. */
    @Test
    void ipv6SettingsNeverHaveLocalhostNodePorts() {
        IptablesSettings settings = IptablesSettings.defaults().withFamily(IpFamily.IPv6).withLocalhostNodePorts(true);
        assertFalse(settings.localhostNodePorts());
        assertTrue(settings.loopback("::1") && !settings.loopback("127.0.0.1"));
        assertEquals(Set.of(), settings.nfacctCounters());
    }
}
