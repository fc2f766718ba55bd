package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.conntrack.TcpFlushPolicy;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.ServiceEvents;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.testing.Fixtures;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IPVS mode against {@link FakeIpvsKernel}: what each sync changes, drains, fallbacks and cleanup. */
class IpvsDataplaneTest {

    private final FakeIpvsKernel kernel = new FakeIpvsKernel();
    private final List<String> events = new ArrayList<>();
    private final ServiceEvents recorder = (service, reason, message) -> events.add(service.name() + " " + reason + ": " + message);
    private final ProxyConfig config = ProxyConfig.defaults().withHostnameOverride(Fixtures.NODE).withMode("ipvs")
            .withClusterCIDRs(List.of("198.18.0.0/24"));

    private IpvsDataplane dataplane(ProxyConfig c) {
        return new IpvsDataplane(new DataplaneContext(c, kernel, new SimpleMeterRegistry(), recorder));
    }

    private static ResolvedService web(String... endpointIps) {
        return port("default", "web", "http", Protocol.TCP, "198.19.0.1", 80)
                .resolve(java.util.Arrays.stream(endpointIps).map(ip -> endpoint(ip, 8080))
                        .toArray(io.kubeferry.proxy.model.Endpoint[]::new));
    }

    private static ResolvedService dns(String... endpointIps) {
        return port("kube-system", "dns", "dns", Protocol.UDP, "198.19.0.53", 53)
                .resolve(java.util.Arrays.stream(endpointIps).map(ip -> endpoint(ip, 5353))
                        .toArray(io.kubeferry.proxy.model.Endpoint[]::new));
    }

    private static ResolvedService nodePortLocal() {
        return port("default", "np", "", Protocol.TCP, "198.19.0.2", 80).nodePort(30080).externalLocal(32000)
                .resolve(localEndpoint("198.18.0.11", 8080), endpoint("198.18.2.12", 8080));
    }

    private static ResolvedService loadBalancer() {
        return port("default", "lb", "", Protocol.TCP, "198.19.0.3", 443).loadBalancerIP("198.19.200.1")
                .sourceRange("198.18.1.0/24").resolve(endpoint("198.18.0.21", 8443));
    }

    private String ipvsadmInput(int index) {
        List<String> inputs = kernel.commands("ipvsadm").stream().filter(c -> c.args().equals(List.of("-R")))
                .map(c -> c.stdinText()).toList();
        return inputs.get(index < 0 ? inputs.size() + index : index);
    }

    @Test
    void firstSyncProgramsServersAddressesSetsRulesAndSysctls() throws Exception {
        IpvsDataplane d = dataplane(config);
        d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11", "198.18.0.12"), nodePortLocal(), loadBalancer())));

        assertEquals("-A -t 198.19.0.1:80 -s rr", kernel.services.get("-t 198.19.0.1:80"));
        assertEquals(Set.of("198.18.0.11:8080", "198.18.0.12:8080"), kernel.reals.get("-t 198.19.0.1:80").keySet());
        // NodePort on the node's address, not on loopback or kube-ipvs0's; Local policy: only the local endpoint.
        assertEquals(Set.of("198.18.0.11:8080"), kernel.reals.get("-t 198.18.1.1:30080").keySet());
        assertFalse(kernel.services.containsKey("-t 127.0.0.1:30080"));
        assertFalse(kernel.services.keySet().stream().anyMatch(k -> k.contains("198.19.0.1:30080")));
        assertEquals(Set.of("198.19.0.1", "198.19.0.2", "198.19.0.3", "198.19.200.1"), kernel.links.get("kube-ipvs0"));

        assertTrue(
                kernel.ipsets.get("KUBE-CLUSTER-IP").containsAll(Set.of("198.19.0.1,tcp:80", "198.19.0.2,tcp:80", "198.19.0.3,tcp:443")));
        assertEquals(Set.of("30080"), kernel.ipsets.get("KUBE-NODE-PORT-TCP"));
        assertEquals(Set.of("30080"), kernel.ipsets.get("KUBE-NODE-PORT-LOCAL-TCP"));
        assertEquals(Set.of("32000"), kernel.ipsets.get("KUBE-HEALTH-CHECK-NODE-PORT"));
        assertEquals(Set.of("198.19.200.1,tcp:443,198.18.1.0/24"), kernel.ipsets.get("KUBE-LOAD-BALANCER-SOURCE-CIDR"));
        assertEquals(Set.of("198.18.0.11,tcp:8080,198.18.0.11"), kernel.ipsets.get("KUBE-LOOP-BACK"), "hairpin only for local endpoints");

        List<String> services = kernel.netfilter.rules("nat", "KUBE-SERVICES");
        assertTrue(services.contains(
                "! -s 198.18.0.0/24 -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ"),
                services.toString());
        assertTrue(kernel.netfilter.rules("nat", "PREROUTING").stream().anyMatch(r -> r.endsWith("-j KUBE-SERVICES")));
        assertTrue(kernel.netfilter.rules("filter", "INPUT").stream().anyMatch(r -> r.endsWith("-j KUBE-IPVS-FILTER")));
        assertEquals("1", kernel.netfilter.sysctl("net.ipv4.vs.conntrack"));
        assertEquals("1", kernel.netfilter.sysctl("net.ipv4.vs.expire_nodest_conn"));
    }

    /**
     * k/k#119656: the node reaches a load balancer IP only when one of its source ranges contains the node IP
     * (then through LBIP's own entry in KUBE-LOAD-BALANCER-SOURCE-IP), else KUBE-IPVS-OUT-FILTER drops its packets;
     * a partial sync that changes which load balancers those are rewrites that chain alone.
     */
    @Test
    void theNodeIsLetOntoALoadBalancerIpOnlyWhenASourceRangeContainsIt() throws Exception {
        IpvsDataplane d = dataplane(config);
        d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11"), loadBalancer())));
        assertEquals(Set.of("198.19.200.1,tcp:443,198.19.200.1"), kernel.ipsets.get("KUBE-LOAD-BALANCER-SOURCE-IP"),
                "198.18.1.0/24 holds the node's 198.18.1.1: the node, sending from the LB IP, is let in");
        assertEquals(List.of(), kernel.netfilter.rules("filter", "KUBE-IPVS-OUT-FILTER"));
        assertTrue(kernel.netfilter.rules("filter", "OUTPUT").contains(
                "-m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-OUT-FILTER"),
                kernel.netfilter.rules("filter", "OUTPUT").toString());
        kernel.commands.clear();

        ResolvedService elsewhere = port("default", "lb2", "", Protocol.UDP, "198.19.0.4", 53).loadBalancerIP("198.19.200.2")
                .sourceRange("198.18.2.0/24").resolve(endpoint("198.18.0.22", 5353));
        ProxyState next = Fixtures.state(web("198.18.0.11"), loadBalancer(), elsewhere);
        d.sync(new SyncRequest(next, Set.of(next.services().lastKey()), false));
        assertEquals(List.of("-s 198.19.200.2 -m ipvs --vaddr 198.19.200.2 --vproto udp --vport 53 -j DROP"),
                kernel.netfilter.rules("filter", "KUBE-IPVS-OUT-FILTER"));
        assertEquals(List.of("*filter", ":KUBE-IPVS-OUT-FILTER - [0:0]",
                "-A KUBE-IPVS-OUT-FILTER -s 198.19.200.2 -m ipvs --vaddr 198.19.200.2 --vproto udp --vport 53 -j DROP", "COMMIT"),
                kernel.commands.stream().filter(c -> c.tool().startsWith("iptables")).map(c -> c.stdinText()).findFirst().orElseThrow()
                        .lines().toList(),
                "a partial sync restores the out-filter alone");
        assertEquals(Set.of("198.19.200.1,tcp:443,198.19.200.1"), kernel.ipsets.get("KUBE-LOAD-BALANCER-SOURCE-IP"));

        kernel.commands.clear();
        ProxyState same = Fixtures.state(web("198.18.0.11", "198.18.0.12"), loadBalancer(), elsewhere);
        d.sync(new SyncRequest(same, Set.of(same.services().firstKey()), false));
        assertTrue(kernel.commands.stream().noneMatch(c -> c.tool().startsWith("iptables")),
                "no iptables-restore while the out-filter stays as it is");

        ProxyState gone = Fixtures.state(web("198.18.0.11", "198.18.0.12"), loadBalancer());
        d.sync(new SyncRequest(gone, Set.of(next.services().lastKey()), false));
        assertEquals(List.of(), kernel.netfilter.rules("filter", "KUBE-IPVS-OUT-FILTER"), "the Service gone, its rule goes");
    }

    @Test
    void laterSyncsChangeOnlyTheDifferenceInOneBatchPerTool() throws Exception {
        IpvsDataplane d = dataplane(config);
        d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11"), dns("198.18.0.53"))));
        kernel.commands.clear();

        ProxyState next = Fixtures.state(web("198.18.0.11", "198.18.0.12"), dns("198.18.0.53"));
        d.sync(new SyncRequest(next, Set.of(next.services().firstKey()), false));

        assertEquals("-a -t 198.19.0.1:80 -r 198.18.0.12:8080 -m -w 1\n", ipvsadmInput(-1));
        assertEquals(List.of("ipvsadm"), kernel.commands.stream().map(c -> c.tool()).toList(),
                "a partial sync reads nothing back and leaves unchanged sets, addresses and iptables rules alone");

        kernel.commands.clear();
        ProxyState local = Fixtures.state(web("198.18.0.11", "198.18.0.12"), dns("198.18.0.53"),
                port("default", "new", "", Protocol.TCP, "198.19.0.8", 80).resolve(localEndpoint("198.18.0.14", 8080)));
        d.sync(new SyncRequest(local, Set.of(local.services().lastKey()), false));
        assertEquals(List.of("ipset", "ip", "ipvsadm"), kernel.commands.stream().map(c -> c.tool()).toList());
        String sets = kernel.commands("ipset").get(0).stdinText();
        assertFalse(sets.contains("create "), "sets are created on full syncs only");
        assertTrue(sets.contains("add KUBE-LOOP-BACK 198.18.0.14,tcp:8080,198.18.0.14"), sets);
        assertEquals("address add 198.19.0.8/32 dev kube-ipvs0\n", kernel.commands("ip").get(0).stdinText());
    }

    @Test
    void aRemovedTcpEndpointDrainsWhileUdpOnesGoAtOnce() throws Exception {
        IpvsDataplane d = dataplane(config);
        d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11", "198.18.0.12"), dns("198.18.0.53", "198.18.0.54"))));
        ProxyState next = Fixtures.state(web("198.18.0.11"), dns("198.18.0.53"));
        d.sync(new SyncRequest(next, next.services().keySet(), false));

        assertEquals("-a -t 198.19.0.1:80 -r 198.18.0.12:8080 -m -w 0", kernel.reals.get("-t 198.19.0.1:80").get("198.18.0.12:8080"));
        assertFalse(kernel.reals.get("-u 198.19.0.53:53").containsKey("198.18.0.54:5353"), "UDP has no connection end to wait for");

        kernel.connections += "TCP 14:58  ESTABLISHED 198.18.1.2:40000  198.19.0.1:80      198.18.0.12:8080\n"
                + "TCP 01:58  TIME_WAIT   198.18.1.2:40001  198.19.0.1:80      198.18.0.12:8080\n";
        d.housekeeping();
        assertTrue(kernel.reals.get("-t 198.19.0.1:80").containsKey("198.18.0.12:8080"), "an open connection keeps it");

        kernel.connections = kernel.connections.replace("ESTABLISHED", "TIME_WAIT  ");
        d.housekeeping();
        assertFalse(kernel.reals.get("-t 198.19.0.1:80").containsKey("198.18.0.12:8080"), "TIME_WAIT carries no data: deleted");
        assertEquals(Set.of("198.18.0.11:8080"), kernel.reals.get("-t 198.19.0.1:80").keySet());
    }

    private static ResolvedService cut(boolean optIn, io.kubeferry.proxy.model.Endpoint... eps) {
        var b = port("default", "cut", "", Protocol.TCP, "198.19.0.5", 80).externalIP("198.19.100.5");
        if (optIn) {
            b.option(TcpFlushPolicy.ANNOTATION, "true");
        }
        return b.resolve(eps);
    }

    private String weight(String service, String real) {
        String line = kernel.reals.getOrDefault(service, Map.of()).get(real);
        return line == null ? "gone" : line.substring(line.lastIndexOf(' ') + 1);
    }

    /**
     * kube-ferry.io/conntrack-flush-tcp in IPVS mode: a removed endpoint's real servers go at once on every virtual
     * server of the Service (IPVS would keep forwarding its connections to a weight-0 one, whatever conntrack holds);
     * a terminating one goes to weight 0 and, leaving the slice later, keeps draining; other Services drain as ever.
     */
    @Test
    void anOptedInServiceDeletesARemovedEndpointsRealServersAtOnceWhileATerminatingOneDrains() throws Exception {
        var a = endpoint("198.18.0.11", 8080);
        var b = endpoint("198.18.0.12", 8080);
        var c = endpoint("198.18.0.13", 8080);
        var cTerminating = new io.kubeferry.proxy.model.Endpoint(c.ip(), 8080, false, true, true, "node-b", "", Set.of(), Set.of(), false);
        IpvsDataplane d = dataplane(config);
        d.sync(SyncRequest.full(Fixtures.state(cut(true, a, b, c), web("198.18.0.11", "198.18.0.12"))));

        ProxyState next = Fixtures.state(cut(true, a, cTerminating), web("198.18.0.11"));
        d.sync(new SyncRequest(next, next.services().keySet(), false));
        assertEquals(List.of("gone", "gone", "0", "0"), List.of(weight("-t 198.19.0.5:80", "198.18.0.12:8080"),
                weight("-t 198.19.100.5:80", "198.18.0.12:8080"), weight("-t 198.19.0.5:80", "198.18.0.13:8080"),
                weight("-t 198.19.0.1:80", "198.18.0.12:8080")), "removed: cut; terminating: drains; not opted in: drains");
        assertTrue(ipvsadmInput(-1).contains("-d -t 198.19.100.5:80 -r 198.18.0.12:8080\n"), ipvsadmInput(-1));

        ProxyState gone = Fixtures.state(cut(true, a), web("198.18.0.11"));
        d.sync(new SyncRequest(gone, gone.services().keySet(), false));
        assertEquals("0", weight("-t 198.19.0.5:80", "198.18.0.13:8080"), "terminating when it left the slice: still draining");
    }

    /** --conntrack-flush-tcp opts every Service in and the annotation "false" out; after a restart nothing is cut. */
    @Test
    void theNodeSettingOptsEveryServiceInAndAFreshAgentCutsNothing() throws Exception {
        ProxyConfig every = config.withConntrackHooks(new ProxyConfig.ConntrackHookSettings(java.time.Duration.ofSeconds(30), true,
                java.time.Duration.ZERO));
        var out = port("default", "out", "", Protocol.TCP, "198.19.0.6", 80).option(TcpFlushPolicy.ANNOTATION, "false");
        var a = endpoint("198.18.0.11", 8080);
        var b = endpoint("198.18.0.12", 8080);
        IpvsDataplane d = dataplane(every);
        d.sync(SyncRequest.full(Fixtures.state(cut(false, a, b), out.resolve(a, b))));
        ProxyState next = Fixtures.state(cut(false, a), out.resolve(a));
        d.sync(new SyncRequest(next, next.services().keySet(), false));
        assertEquals(List.of("gone", "0"), List.of(weight("-t 198.19.0.5:80", b.hostPort()), weight("-t 198.19.0.6:80", b.hostPort())));

        dataplane(every).sync(SyncRequest.full(Fixtures.state(cut(false, a, b))));
        dataplane(every).sync(SyncRequest.full(Fixtures.state(cut(false, a))));
        assertEquals("0", weight("-t 198.19.0.5:80", b.hostPort()), "a new agent has no earlier state to tell a removal from: it drains");
    }

    @Test
    void anAgentRestartNeverLeavesARealServerAtWeightZero() throws Exception {
        dataplane(config).sync(SyncRequest.full(Fixtures.state(web("198.18.0.11", "198.18.0.12", "198.18.0.13"))));
        IpvsDataplane before = dataplane(config);
        before.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11"))));
        assertTrue(kernel.reals.get("-t 198.19.0.1:80").get("198.18.0.12:8080").endsWith("-w 0"));

        // A new agent: .12 is back in the Service, .13 is still gone and has drained meanwhile.
        IpvsDataplane after = dataplane(config);
        after.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11", "198.18.0.12"))));
        after.housekeeping();
        assertEquals("-a -t 198.19.0.1:80 -r 198.18.0.12:8080 -m -w 1", kernel.reals.get("-t 198.19.0.1:80").get("198.18.0.12:8080"));
        assertFalse(kernel.reals.get("-t 198.19.0.1:80").containsKey("198.18.0.13:8080"));
    }

    @Test
    void aServiceChoosesItsSchedulerAndAnUnavailableOneFallsBackWithOneEvent() throws Exception {
        IpvsDataplane d = dataplane(config.withIpvs(new ProxyConfig.Ipvs("wlc", config.ipvs().syncPeriod(), config.ipvs().minSyncPeriod(),
                List.of(), false, java.time.Duration.ZERO, java.time.Duration.ZERO, java.time.Duration.ZERO)));
        ResolvedService sticky = port("default", "sticky", "", Protocol.TCP, "198.19.0.5", 80)
                .option(SchedulerCatalog.SCHEDULER_KEY, "sh").option(SchedulerCatalog.FLAGS_KEY, "sh-port")
                .resolve(endpoint("198.18.0.11", 8080));
        ResolvedService exotic = port("default", "exotic", "", Protocol.TCP, "198.19.0.6", 80)
                .option(SchedulerCatalog.SCHEDULER_KEY, "twos").resolve(endpoint("198.18.0.11", 8080));
        ProxyState state = Fixtures.state(sticky, exotic, web("198.18.0.12"));
        d.sync(SyncRequest.full(state));
        d.sync(new SyncRequest(state, Set.of(), false));

        assertEquals("-A -t 198.19.0.5:80 -s sh -b sh-port", kernel.services.get("-t 198.19.0.5:80"));
        assertEquals("-A -t 198.19.0.6:80 -s wlc", kernel.services.get("-t 198.19.0.6:80"));
        assertEquals("-A -t 198.19.0.1:80 -s wlc", kernel.services.get("-t 198.19.0.1:80"));
        assertEquals(1, events.size(), "one Event, not one per sync: " + events);
        assertTrue(events.get(0).startsWith("exotic SchedulerFallback: scheduler \"twos\" is not available"), events.get(0));
    }

    @Test
    void modeNeutralAlgorithmsBecomeKernelSchedulersAndRandomOrAPluginFallsBack() throws Exception {
        IpvsDataplane d = dataplane(config);
        ResolvedService maglev = port("default", "maglev", "", Protocol.TCP, "198.19.0.5", 80)
                .option(SchedulerCatalog.SCHEDULER_KEY, "maglev").option(SchedulerCatalog.FLAGS_KEY, "mh-port")
                .resolve(endpoint("198.18.0.11", 8080));
        ResolvedService hash = port("default", "hash", "", Protocol.TCP, "198.19.0.6", 80)
                .option(SchedulerCatalog.SCHEDULER_KEY, "source-hash").resolve(endpoint("198.18.0.11", 8080));
        ResolvedService random = port("default", "random", "", Protocol.TCP, "198.19.0.7", 80)
                .option(SchedulerCatalog.SCHEDULER_KEY, "random").resolve(endpoint("198.18.0.11", 8080));
        // A plugin's slot table has no IPVS form: IPVS mode does not offer plugin names at all.
        ResolvedService plugin = port("default", "plugin", "", Protocol.TCP, "198.19.0.8", 80)
                .option(SchedulerCatalog.SCHEDULER_KEY, "weighted-example").resolve(endpoint("198.18.0.11", 8080));
        ProxyState state = Fixtures.state(maglev, hash, random, plugin);
        d.sync(SyncRequest.full(state));
        d.sync(SyncRequest.full(state));

        assertEquals("-A -t 198.19.0.5:80 -s mh -b mh-fallback,mh-port", kernel.services.get("-t 198.19.0.5:80"));
        assertEquals("-A -t 198.19.0.6:80 -s sh -b sh-fallback", kernel.services.get("-t 198.19.0.6:80"));
        assertEquals("-A -t 198.19.0.7:80 -s rr", kernel.services.get("-t 198.19.0.7:80"));
        assertEquals("-A -t 198.19.0.8:80 -s rr", kernel.services.get("-t 198.19.0.8:80"));
        Map<String, String> shown = new java.util.TreeMap<>();
        d.schedulers().forEach((name, s) -> shown.put(name.name(), s.describe()));
        assertEquals(Map.of("maglev", "maglev (mh) mh-fallback,mh-port (annotation)", "hash", "source-hash (sh) sh-fallback (annotation)",
                "random",
                "rr (fallback: scheduler \"random\" is not available on this node (no IPVS scheduler picks at random); using \"rr\")",
                "plugin", "rr (fallback: scheduler \"weighted-example\" is not available on this node; using \"rr\")"), shown);
        assertEquals(List.of("plugin SchedulerFallback: scheduler \"weighted-example\" is not available on this node; using \"rr\"",
                "random SchedulerFallback: scheduler \"random\" is not available on this node (no IPVS scheduler picks at random); using \"rr\""),
                events.stream().sorted().toList(), "one Event each, not one per sync");
    }

    @Test
    void sessionAffinityIsPersistenceAndForeignOrExcludedServersAreLeftAlone() throws Exception {
        kernel.services.put("-t 10.0.0.1:80", "-A -t 10.0.0.1:80 -s rr");
        kernel.links.get("eth0").add("198.18.9.9");
        kernel.services.put("-t 198.18.9.9:9000", "-A -t 198.18.9.9:9000 -s rr");
        ProxyConfig excluding = config.withIpvs(new ProxyConfig.Ipvs("", config.ipvs().syncPeriod(), config.ipvs().minSyncPeriod(),
                List.of("198.18.9.0/24"), false, java.time.Duration.ZERO, java.time.Duration.ZERO, java.time.Duration.ZERO));
        IpvsDataplane d = dataplane(excluding);
        ResolvedService affinity = port("default", "aff", "", Protocol.TCP, "198.19.0.7", 80).sticky(10800)
                .resolve(endpoint("198.18.0.11", 8080));
        d.sync(SyncRequest.full(Fixtures.state(affinity)));
        d.sync(SyncRequest.full(Fixtures.state()));
        assertTrue(kernel.services.containsKey("-t 10.0.0.1:80"), "not on a kube-ferry address");
        assertTrue(kernel.services.containsKey("-t 198.18.9.9:9000"), "inside ipvs.excludeCIDRs");
        assertFalse(kernel.services.containsKey("-t 198.19.0.7:80"));
        assertTrue(ipvsadmInput(0).contains("-A -t 198.19.0.7:80 -s rr -p 10800"), ipvsadmInput(0));
    }

    @Test
    void leftoverCleanupKeepsTheRunningModesChainsAndFullCleanupRemovesAll() throws Exception {
        IpvsDataplane d = dataplane(config);
        d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11"), nodePortLocal())));
        assertTrue(d.hasLeftovers());

        d.cleanupNotUsedBy(Set.of("nat/KUBE-SERVICES", "nat/KUBE-POSTROUTING", "nat/KUBE-MARK-MASQ", "filter/KUBE-FORWARD"));
        assertTrue(kernel.services.isEmpty());
        assertFalse(kernel.links.containsKey("kube-ipvs0"));
        assertTrue(kernel.ipsets.isEmpty(), kernel.ipsets.toString());
        assertTrue(kernel.netfilter.chains("nat").contains("KUBE-SERVICES"), "the running mode's chain stays");
        assertTrue(kernel.netfilter.rules("nat", "PREROUTING").stream().anyMatch(r -> r.endsWith("-j KUBE-SERVICES")));
        assertFalse(kernel.netfilter.chains("nat").contains("KUBE-NODE-PORT"));
        assertFalse(kernel.netfilter.chains("filter").contains("KUBE-IPVS-FILTER"));
        assertFalse(kernel.netfilter.rules("filter", "INPUT").stream().anyMatch(r -> r.contains("KUBE-IPVS-FILTER")));
        assertFalse(d.hasLeftovers());

        d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11"))));
        d.cleanup();
        assertFalse(kernel.netfilter.chains("nat").contains("KUBE-SERVICES"));
        assertTrue(kernel.netfilter.rules("nat", "PREROUTING").isEmpty());
        assertFalse(d.hasLeftovers());
    }

    /** A switch to iptables mode (which has no such chain) and a cleanup both take KUBE-IPVS-OUT-FILTER and its jump. */
    @Test
    void aModeSwitchAndCleanupRemoveTheOutFilterAndItsJump() throws Exception {
        ResolvedService outside = port("default", "lb2", "", Protocol.TCP, "198.19.0.4", 443).loadBalancerIP("198.19.200.2")
                .sourceRange("198.18.2.0/24").resolve(endpoint("198.18.0.22", 8443));
        Set<String> iptablesMode = io.kubeferry.proxy.dataplane.DataplaneProvider.forMode("iptables")
                .create(new DataplaneContext(config.withMode("iptables"), kernel, new SimpleMeterRegistry())).sharedState();
        for (boolean modeSwitch : List.of(true, false)) {
            IpvsDataplane d = dataplane(config);
            d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11"), outside)));
            assertEquals(1, kernel.netfilter.rules("filter", "KUBE-IPVS-OUT-FILTER").size());
            if (modeSwitch) {
                assertTrue(d.cleanupNotUsedBy(iptablesMode).ok());
            } else {
                assertTrue(d.cleanup().ok());
            }
            assertFalse(kernel.netfilter.chains("filter").contains("KUBE-IPVS-OUT-FILTER"), modeSwitch ? "mode switch" : "cleanup");
            assertTrue(kernel.netfilter.rules("filter", "OUTPUT").stream().noneMatch(r -> r.contains("KUBE-IPVS-OUT-FILTER")),
                    kernel.netfilter.rules("filter", "OUTPUT").toString());
        }
    }

    @Test
    void cleanupCountsWhatItRemovedAndASecondFindsNothing() throws Exception {
        IpvsDataplane d = dataplane(config);
        d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11"), nodePortLocal(), loadBalancer())));
        kernel.services.put("-t 10.0.0.1:80", "-A -t 10.0.0.1:80 -s rr");
        int servers = kernel.services.size() - 1;
        int sets = kernel.ipsets.size();
        int addresses = kernel.links.get("kube-ipvs0").size();
        String save = kernel.netfilter.run(io.kubeferry.proxy.exec.ToolCommand.of("iptables-nft-save")).stdout();
        long chains = save.lines().filter(l -> l.startsWith(":KUBE-")).count();
        long rules = save.lines().filter(l -> l.startsWith("-A ") && l.contains("KUBE-")).count();

        CleanupReport report = d.cleanup();
        assertTrue(report.ok(), report.summary());
        assertEquals("ipvs mode: removed " + chains + " chains, " + rules + " rules, " + servers + " virtual servers, 1 interface, "
                + addresses + " addresses, " + sets + " ipsets", report.summary());
        assertEquals(List.of("-t 10.0.0.1:80"), List.copyOf(kernel.services.keySet()), "not kube-ferry's: kept and not counted");
        assertEquals("ipvs mode: nothing to remove", d.cleanup().summary());
    }

    @Test
    void cleanupOnAKernelWithoutIpvsIsNoFailureButADeniedIpvsadmIs() throws Exception {
        kernel.ipvsInKernel = false;
        assertEquals("ipvs mode: nothing to remove", dataplane(config).cleanup().summary());
        kernel.ipvsInKernel = true;
        kernel.ipvsadmDenied = "Can't initialize ipvs: Permission denied (you must be root)\n";
        CleanupReport denied = dataplane(config).cleanup();
        assertEquals(List.of("ipvsadm -Sn exited 2: Can't initialize ipvs: Permission denied (you must be root)"), denied.failures());
    }

    @Test
    void startUpFailsWhenTheConfiguredSchedulerIsNotInTheKernelAndLeavesNoProbeBehind() throws Exception {
        dataplane(config).checkKernel();
        assertTrue(kernel.services.isEmpty(), "the probe virtual server is gone: " + kernel.services);
        assertTrue(ipvsadmInput(0).startsWith("-A -t " + IpvsKernelPreparation.SCHEDULER_PROBE + " -s rr"), ipvsadmInput(0));
        ProxyConfig nq = config.withIpvs(new ProxyConfig.Ipvs("nq", config.ipvs().syncPeriod(), config.ipvs().minSyncPeriod(),
                List.of(), false, java.time.Duration.ZERO, java.time.Duration.ZERO, java.time.Duration.ZERO));
        DataplaneException e = assertThrows(DataplaneException.class, () -> dataplane(nq).checkKernel());
        assertEquals("ipvs.scheduler: the IPVS scheduler \"nq\" is not available in this kernel (ipvsadm: Memory allocation problem):"
                + " load it with `modprobe ip_vs_nq` or choose another", e.getMessage());
        assertTrue(kernel.services.isEmpty());

        kernel.services.put("-t " + IpvsKernelPreparation.SCHEDULER_PROBE, "-A -t " + IpvsKernelPreparation.SCHEDULER_PROBE + " -s wrr");
        dataplane(config).checkKernel();
        assertEquals(Set.of("-t " + IpvsKernelPreparation.SCHEDULER_PROBE), kernel.services.keySet(), "someone else's is left alone");
    }

    @Test
    void startUpFailsWithoutIpvsSayingHowToLoadIt() throws Exception {
        dataplane(config).checkKernel();
        kernel.ipvsInKernel = false;
        DataplaneException e = assertThrows(DataplaneException.class, () -> dataplane(config).checkKernel());
        assertEquals("IPVS is not available in this kernel (ipvsadm: Can't initialize ipvs: Protocol not available): load its modules"
                + " with `modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack` (a kernel built without CONFIG_IP_VS cannot run"
                + " IPVS mode), or use --proxy-mode iptables", e.getMessage());
        ProxyConfig lc = config.withIpvs(new ProxyConfig.Ipvs("lc", config.ipvs().syncPeriod(), config.ipvs().minSyncPeriod(),
                List.of(), false, java.time.Duration.ZERO, java.time.Duration.ZERO, java.time.Duration.ZERO));
        assertTrue(assertThrows(DataplaneException.class, () -> dataplane(lc).checkKernel()).getMessage()
                .contains("modprobe -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack ip_vs_lc`"), "the configured scheduler's module too");
        assertEquals(List.of("-a", "-q", "ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack", "ip_vs_lc"),
                kernel.commands("modprobe").get(kernel.commands("modprobe").size() - 1).args(), "it tried to load them first");
    }

    @Test
    void aDeletedDummyInterfaceMakesTheNextSyncFull() throws Exception {
        IpvsDataplane d = dataplane(config);
        d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11"))));
        assertFalse(d.kernelStateLost());
        kernel.links.remove("kube-ipvs0");
        assertTrue(d.kernelStateLost());
        ProxyState same = Fixtures.state(web("198.18.0.11"));
        assertTrue(d.sync(new SyncRequest(same, Set.of(), false)).full());
        assertEquals(Set.of("198.19.0.1"), kernel.links.get("kube-ipvs0"));
    }

    @Test
    void aFailedBatchIsReportedAndTheNextSyncReadsTheKernelAgain() throws Exception {
        IpvsDataplane d = dataplane(config);
        d.sync(SyncRequest.full(Fixtures.state(web("198.18.0.11"))));
        kernel.services.put("-t 198.19.0.9:80", "-A -t 198.19.0.9:80 -s rr"); // someone else added it meanwhile
        ProxyState next = Fixtures.state(web("198.18.0.11"),
                port("default", "other", "", Protocol.TCP, "198.19.0.9", 80).resolve(endpoint("198.18.0.12", 8080)));
        DataplaneException e = assertThrows(DataplaneException.class,
                () -> d.sync(new SyncRequest(next, Set.of(next.services().lastKey()), false)));
        assertTrue(e.getMessage().contains("ipvsadm -R"), e.getMessage());
        assertTrue(d.sync(new SyncRequest(next, Set.of(), false)).full());
        assertEquals(Set.of("198.18.0.12:8080"), kernel.reals.get("-t 198.19.0.9:80").keySet());
    }

    @Test
    void renderShowsEveryProgramWithoutTouchingTheMachine() {
        String text = dataplane(config).render(SyncRequest.full(Fixtures.state(web("198.18.0.11"))));
        assertTrue(text.contains("add KUBE-CLUSTER-IP 198.19.0.1,tcp:80"), text);
        assertTrue(text.contains("address add 198.19.0.1/32 dev kube-ipvs0"), text);
        assertTrue(text.contains("-a -t 198.19.0.1:80 -r 198.18.0.11:8080 -m -w 1"), text);
        assertTrue(text.contains("-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT"), text);
        assertTrue(kernel.commands.isEmpty());
    }

}
