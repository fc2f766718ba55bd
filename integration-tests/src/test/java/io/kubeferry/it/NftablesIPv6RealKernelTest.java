package io.kubeferry.it;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.scheduler.SlotTable;
import io.kubeferry.proxy.testing.Fixtures;
import io.kubeferry.proxy.testing.trace.Jhash;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * nftables mode's IPv6 program on the real kernel, in namespaces of its own (IPv6 from 2001:db8::/32): the IPv6
 * instance's table ({@code table ip6 kube-proxy}) loads with the real {@code nft -f}, a restarted instance reads it
 * back ({@code nft -j list table ip6 kube-proxy}) and takes it over writing nothing (every rule the kernel lists is
 * understood), the IPv4 table is never touched, and {@code jhash ip6 saddr} hashes as the tracer's model says. Real
 * dual-stack traffic is the dual-stack end-to-end tests'.
 */
class NftablesIPv6RealKernelTest {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    private static final String NODE_IP6 = "2001:db8:2::1";

    @BeforeAll
    static void needsNftAndIPv6() throws Exception {
        assumeTrue(NetnsTestBed.run(List.of("nft", "--version")).exit() == 0,
                "nftables mode needs the nft command (dev/setup.sh installs it)");
        assumeTrue(Files.isDirectory(Path.of("/proc/sys/net/ipv6")), "this kernel has IPv6 disabled (no /proc/sys/net/ipv6)");
    }

    /** A namespace with loopback up and an eth0 holding {@code addresses} (no DAD: usable at once). */
    private static String node(String suffix, String... addresses) throws Exception {
        String ns = BED.bareNamespace(suffix);
        BED.exec(ns, "ip", "link", "set", "lo", "up");
        // A veth pair with both ends here (this kernel has no dummy module): eth0 holds the node's addresses.
        BED.exec(ns, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1");
        for (String a : addresses) {
            BED.exec(ns, "ip", "addr", "add", a, "dev", "eth0", "nodad");
        }
        BED.exec(ns, "ip", "link", "set", "eth1", "up");
        BED.exec(ns, "ip", "link", "set", "eth0", "up");
        return ns;
    }

    /** The IPv6 halves of dual-stack Services of every kind the renderer writes. */
    private static ProxyState ipv6State() {
        ProxyState v4 = Fixtures.state(
                port("ns1", "svc1", "p80", Protocol.TCP, "2001:db8:1::41", 80).resolve(endpoint("2001:db8::180:1", 80),
                        endpoint("2001:db8::180:2", 8080)),
                port("ns2", "svc2", "p80", Protocol.TCP, "2001:db8:1::42", 80).nodePort(30001).loadBalancerIP("2001:db8:10::4")
                        .externalIP("2001:db8:99::22").externalLocal(30000)
                        .resolve(endpoint("2001:db8::180:2", 80), localEndpoint("2001:db8::180:3", 80)),
                port("ns5", "svc5", "p80", Protocol.TCP, "2001:db8:1::45", 80).nodePort(30002).loadBalancerIP("2001:db8:10::8")
                        .sourceRange("2001:db8:113::/64").sourceRange("2001:db8:2::/64").sourceRange("2001:db8:114::7/128").sticky(10800)
                        .resolve(endpoint("2001:db8::180:3", 80), endpoint("2001:db8::180:4", 80)),
                port("ns6", "svc6", "p80", Protocol.UDP, "2001:db8:1::46", 53).nodePort(30006).externalIP("2001:db8:99::66").resolve(),
                port("ns7", "sh", "p80", Protocol.TCP, "2001:db8:1::47", 80).option(SchedulerCatalog.SCHEDULER_KEY, "source-hash")
                        .resolve(endpoint("2001:db8::180:7", 80), endpoint("2001:db8::180:8", 80), endpoint("2001:db8::180:9", 80)));
        return new ProxyState(v4.node(), v4.services(), v4.generation(), List.of(Cidr.parse("2001:db8:1::/112")), IpFamily.IPv6);
    }

    private static Dataplane ipv6Instance(String ns, SimpleMeterRegistry metrics) {
        ProxyConfig config = ProxyConfig.defaults().withMode("nftables").withHostnameOverride(Fixtures.NODE).withNetns(ns)
                .withClusterCIDRs(List.of("198.18.0.0/16", "2001:db8::/64"));
        return DataplaneProvider.forMode("nftables")
                .create(new DataplaneContext(config, new ProcessToolRunner(ns), metrics).withFamily(IpFamily.IPv6));
    }

    @Test
    void theIPv6ProgramLoadsAndATakeOverReadsItBackWritingNothing() throws Exception {
        String ns = node("nft6-node", NODE_IP6 + "/64");
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        Dataplane first = ipv6Instance(ns, metrics);
        first.checkKernel();
        SyncResult loaded = first.sync(SyncRequest.full(ipv6State()));
        assertTrue(loaded.bytesWritten() > 0);
        String table = BED.stdout(ns, "nft", "list", "table", "ip6", "kube-proxy");
        for (String expected : List.of("type ipv6_addr", "ip6 daddr . meta l4proto . th dport vmap @service-ips",
                "dnat to [2001:db8::180:1]:80", "{ ip6 saddr }", "jhash ip6 saddr mod 3", "ip6 saddr 2001:db8::/64 goto ",
                "ip6 saddr != { ", "elements = { " + NODE_IP6 + " }")) {
            assertTrue(table.contains(expected), "table ip6 kube-proxy holds \"" + expected + "\":\n" + table);
        }
        assertFalse(table.contains("ip daddr") || table.contains("ipv4_addr"), table);
        assertFalse(BED.exec(ns, "nft", "list", "tables").contains("table ip kube-proxy"), "the IPv6 instance writes no table ip");

        // A restart: the new instance reads the table back and, nothing having changed, writes nothing.
        SimpleMeterRegistry after = new SimpleMeterRegistry();
        SyncResult restarted = ipv6Instance(ns, after).sync(SyncRequest.full(ipv6State()));
        double takenOver = after.get("kubeferry.nftables.start.readback").tag("outcome", "taken-over").tag("ip_family", "IPv6").counter()
                .count();
        assertEquals(1, takenOver, "the restarted IPv6 instance took table ip6 kube-proxy over");
        assertEquals(0, restarted.bytesWritten(), "same objects, nothing written");
        assertEquals(table, BED.stdout(ns, "nft", "list", "table", "ip6", "kube-proxy"));
        System.out.println("table ip6 kube-proxy: " + table.lines().count() + " lines listed, " + loaded.bytesWritten()
                + " bytes loaded; restart wrote " + restarted.bytesWritten());

        // Cleanup of the IPv6 instance removes table ip6 only.
        BED.exec(ns, "nft", "add", "table", "ip", "kube-proxy");
        assertEquals("nftables mode: removed 1 table", ipv6Instance(ns, new SimpleMeterRegistry()).cleanup().summary());
        String tables = BED.exec(ns, "nft", "list", "tables");
        assertTrue(tables.contains("table ip kube-proxy") && !tables.contains("table ip6 kube-proxy"), tables);
    }

    /**
     * ServiceDispatch's {@code jhash ip6 saddr mod M seed S} as the kernel computes it: each of a dozen sources sends
     * one UDP datagram through a rule that jumps to the chain of its hash value, and the chain whose counter moved is
     * the one Jhash.nftJhash6 predicts.
     */
    @Test
    void jhashOfIp6SaddrIsTheTracersModel() throws Exception {
        int mod = 61;
        List<String> sources = new java.util.ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            sources.add("2001:db8:9::" + Integer.toHexString(i * 4099));
        }
        List<String> addresses = new java.util.ArrayList<>(List.of("2001:db8:9::ffff/64"));
        sources.forEach(s -> addresses.add(s + "/64"));
        String ns = node("nft6-jhash", addresses.toArray(String[]::new));
        StringBuilder program = new StringBuilder("add table ip6 kfjhash\n");
        StringBuilder branches = new StringBuilder();
        for (int v = 0; v < mod; v++) {
            program.append("add chain ip6 kfjhash h").append(v).append('\n');
            program.append("add rule ip6 kfjhash h").append(v).append(" counter\n");
            branches.append(v == 0 ? "" : " , ").append(v).append(" : jump h").append(v);
        }
        program.append("add chain ip6 kfjhash out { type filter hook output priority 0 ; }\n");
        program.append("add rule ip6 kfjhash out ip6 daddr 2001:db8:9::ffff udp dport 9 jhash ip6 saddr mod ").append(mod)
                .append(" seed ").append(String.format("0x%x", SlotTable.HASH_SEED)).append(" vmap { ").append(branches).append(" }\n");
        new ProcessToolRunner(ns).run(ToolCommand.of("nft", "-f", "-").withStdin(program.toString()));
        Map<String, Integer> seen = new LinkedHashMap<>();
        Map<String, Integer> predicted = new LinkedHashMap<>();
        Map<Integer, Long> before = counts(ns);
        for (String source : sources) {
            BED.exec(ns, "sh", "-c", "echo x | socat -u - 'UDP6-SENDTO:[2001:db8:9::ffff]:9,bind=[" + source + "]'");
            Map<Integer, Long> now = counts(ns);
            // The one chain whose counter moved (-1: none did, the datagram missed the rule).
            seen.put(source, now.keySet().stream().filter(v -> !now.get(v).equals(before.get(v))).findFirst().orElse(-1));
            before.putAll(now);
            predicted.put(source, Jhash.nftJhash6(source, SlotTable.HASH_SEED, mod));
        }
        System.out.println("jhash ip6 saddr mod " + mod + ": kernel " + seen + ", model " + predicted);
        assertEquals(predicted, seen);
    }

    /** Each hash chain's packet count. */
    private static Map<Integer, Long> counts(String ns) throws Exception {
        Map<Integer, Long> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("chain h(\\d+) \\{\\s*counter packets (\\d+) ")
                .matcher(BED.stdout(ns, "nft", "list", "table", "ip6", "kfjhash"));
        while (m.find()) {
            out.put(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)));
        }
        return out;
    }
}
