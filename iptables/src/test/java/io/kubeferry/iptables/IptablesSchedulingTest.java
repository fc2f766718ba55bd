package io.kubeferry.iptables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.ServiceEvents;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.trace.NetfilterTracer;
import io.kubeferry.proxy.testing.trace.Packet;
import io.kubeferry.proxy.testing.trace.PathEnd;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.CLIENTS;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.assertEven;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.assertMaglevRemap;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.clients;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.counts;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.endpoints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduling algorithms as iptables mode writes them, judged by what the rules do: each cluster is synced to a
 * {@link FakeNetfilter} and 10,000 clients' first packets are walked through the rule text by the sampling
 * {@link NetfilterTracer} (statistic random drawn from a seeded Random, nth by per-rule counters, HMARK's jhash).
 */
class IptablesSchedulingTest {

    static final String VIP = "198.19.0.10";

    private final List<String> events = new ArrayList<>();

    /** The first packet of a client from outside the cluster (masqueraded) to the ClusterIP. */
    static Packet client(String source) {
        return Packet.tcp(Packet.Origin.OUTSIDE, source, VIP, 80);
    }

    /** iptables mode synced to a fresh fake with one Service port using {@code scheduler} over {@code n} endpoints. */
    NetfilterTracer synced(String scheduler, List<Endpoint> eps, ProxyConfig config) throws Exception {
        FakeNetfilter kernel = new FakeNetfilter();
        kernel.setAddresses(List.of("127.0.0.1/8", "198.18.1.1/24"));
        ServiceEvents capture = (service, reason, message) -> events.add(service.name() + " " + reason + ": " + message);
        IptablesDataplane dp = new IptablesDataplane(new DataplaneContext(config, kernel, new SimpleMeterRegistry(), capture));
        ResolvedService svc = port("ns", "web", "", Protocol.TCP, VIP, 80).option(SchedulerCatalog.SCHEDULER_KEY, scheduler)
                .resolve(eps.toArray(Endpoint[]::new));
        dp.sync(new SyncRequest(state(svc), Set.of(), true));
        return new NetfilterTracer("iptables", kernel, Set.of("198.18.1.1"), NetfilterTracer.Ipsets.NONE,
                NetfilterTracer.VirtualServers.NONE);
    }

    NetfilterTracer synced(String scheduler, int n) throws Exception {
        return synced(scheduler, endpoints(n), config());
    }

    static ProxyConfig config() {
        return ProxyConfig.defaults().withClusterCIDRs(List.of("198.18.0.0/24"));
    }

    /** Where each client went: exactly one DNAT per packet, or the test fails. */
    static Map<String, String> route(NetfilterTracer tracer, List<String> clients) {
        Map<String, String> where = new HashMap<>();
        for (String c : clients) {
            var ends = tracer.trace(client(c)).outcome().ends();
            assertEquals(1, ends.size(), c + ": " + ends);
            PathEnd end = ends.iterator().next();
            assertEquals(PathEnd.Kind.DNAT, end.kind(), c + ": " + end);
            assertTrue(end.masqueraded(), "an outside client stays masqueraded after the hash dispatch: " + end);
            where.put(c, end.endpoint());
        }
        return where;
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "rr", "source-hash", "maglev"})
    void tenThousandClientsSpreadWithinFivePercentOfEven(String scheduler) throws Exception {
        NetfilterTracer tracer = synced(scheduler, 4).sampling(new Random(7));
        assertEven(scheduler, counts(route(tracer, clients(42, CLIENTS))), 4);
        assertTrue(events.isEmpty(), events.toString());
    }

    @Test
    void roundRobinSplitsThirtyConnectionsExactlyTenTenTen() throws Exception {
        NetfilterTracer tracer = synced("rr", 3).sampling(new Random(1));
        // 30 connections from one client: rr does not look at the source.
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < 30; i++) {
            var end = tracer.trace(client("198.18.70.1")).outcome().ends().iterator().next();
            counts.merge(end.endpoint(), 1, Integer::sum);
        }
        assertEquals(Map.of("198.18.0.10:8080", 10, "198.18.0.11:8080", 10, "198.18.0.12:8080", 10), counts);
    }

    @ParameterizedTest
    @ValueSource(strings = {"source-hash", "maglev"})
    void aClientAddressKeepsItsEndpoint(String scheduler) throws Exception {
        NetfilterTracer tracer = synced(scheduler, 5).sampling(new Random(3));
        List<String> cs = clients(5, 500);
        assertEquals(route(tracer, cs), route(tracer, cs), "the same addresses again reach the same endpoints");
        // Without sampling too: the hash leaves one path, not one per endpoint.
        NetfilterTracer exact = synced(scheduler, 5);
        assertEquals(1, exact.trace(client("198.18.99.9")).outcome().ends().size());
    }

    @Test
    void podClientsAreNotMasqueradedByTheHashDispatch() throws Exception {
        NetfilterTracer tracer = synced("maglev", 3);
        var end = tracer.trace(Packet.tcp(Packet.Origin.POD, "198.18.0.77", VIP, 80)).outcome().ends().iterator().next();
        assertEquals(PathEnd.Kind.DNAT, end.kind());
        assertTrue(!end.masqueraded(), "a pod source inside the cluster CIDR keeps its address: " + end);
    }

    @Test
    void maglevMovesAboutOneNthOfClientsWhenOneEndpointGoesOrComes() throws Exception {
        List<String> cs = clients(11, CLIENTS);
        assertMaglevRemap("iptables", eps -> route(synced("maglev", eps, config()), cs));
    }

    /**
     * A plugin jar on the class path, as ServiceLoader finds it: a directory with the META-INF/services entry, seen
     * through the context class loader while the dataplane is made (only this test sees it).
     */
    @Test
    void aPluginOnTheClassPathIsOfferedAndItsWeightsHold(@org.junit.jupiter.api.io.TempDir java.nio.file.Path jar) throws Exception {
        java.nio.file.Path services = jar.resolve("META-INF/services");
        java.nio.file.Files.createDirectories(services);
        java.nio.file.Files.writeString(services.resolve(io.kubeferry.proxy.scheduler.SchedulerAlgorithm.class.getName()),
                DoubleFirstAlgorithm.class.getName() + "\n");
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        NetfilterTracer synced;
        try (java.net.URLClassLoader plugins = new java.net.URLClassLoader(new java.net.URL[] {jar.toUri().toURL()}, before)) {
            thread.setContextClassLoader(plugins);
            synced = synced("double-first", 3);
        } finally {
            thread.setContextClassLoader(before);
        }
        NetfilterTracer tracer = synced.sampling(new Random(9));
        Map<String, Integer> counts = counts(route(tracer, clients(8, CLIENTS)));
        // Slots 2:1:1.
        assertTrue(Math.abs(counts.get("198.18.0.10:8080") - CLIENTS / 2.0) <= 0.05 * CLIENTS / 2.0, counts.toString());
        assertTrue(Math.abs(counts.get("198.18.0.11:8080") - CLIENTS / 4.0) <= 0.05 * CLIENTS / 4.0, counts.toString());
        assertTrue(events.isEmpty(), events.toString());
    }

    @Test
    void anAlgorithmTheModeLacksFallsBackToRandomWithOneEvent() throws Exception {
        FakeNetfilter kernel = new FakeNetfilter();
        kernel.setAddresses(List.of("127.0.0.1/8", "198.18.1.1/24"));
        IptablesDataplane dp = new IptablesDataplane(new DataplaneContext(config(), kernel, new SimpleMeterRegistry(),
                (service, reason, message) -> events.add(service.name() + " " + reason + ": " + message)));
        ResolvedService svc = port("ns", "web", "", Protocol.TCP, VIP, 80).option(SchedulerCatalog.SCHEDULER_KEY, "wlc")
                .resolve(endpoints(3).toArray(Endpoint[]::new));
        dp.sync(new SyncRequest(state(svc), Set.of(), true));
        dp.sync(new SyncRequest(state(svc), Set.of(svc.name()), false));
        assertEquals(1, events.size(), events.toString());
        assertTrue(events.get(0).startsWith("web SchedulerFallback: scheduler \"wlc\" is not available"), events.get(0));
        String svcChain = new ChainNames(10).of(svc.name()).cluster();
        assertTrue(kernel.rules("nat", svcChain).stream().anyMatch(r -> r.contains("--mode random")), "random, the mode's default");
    }

    @Test
    void theNodeDefaultAppliesToServicesWithoutAnAnnotation() throws Exception {
        FakeNetfilter kernel = new FakeNetfilter();
        kernel.setAddresses(List.of("127.0.0.1/8", "198.18.1.1/24"));
        IptablesDataplane dp = new IptablesDataplane(new DataplaneContext(config().withScheduling("rr", 251), kernel,
                new SimpleMeterRegistry()));
        ResolvedService svc = port("ns", "web", "", Protocol.TCP, VIP, 80).resolve(endpoints(3).toArray(Endpoint[]::new));
        dp.sync(new SyncRequest(state(svc), Set.of(), true));
        String svcChain = new ChainNames(10).of(svc.name()).cluster();
        assertTrue(kernel.rules("nat", svcChain).stream().anyMatch(r -> r.contains("--mode nth --every 3 --packet 0")),
                kernel.rules("nat", svcChain).toString());
    }

    /**
     * The rule text of each algorithm (golden file, reviewed): rr's nth cascade, source-hash's and maglev's two HMARK
     * rules, mark/mask blocks and the slot-bit clearing in each SEP chain. Maglev with M = 7, so the table is short.
     */
    @Test
    void theRulesEachAlgorithmWrites() throws Exception {
        IptablesScheduling d = IptablesScheduling.defaults();
        IptablesRenderer renderer = new IptablesRenderer(new ChainNames(1000), new IptablesScheduling(d.catalog(), d.algorithms(), 7));
        Endpoint[] three = endpoints(3).toArray(Endpoint[]::new);
        var state = state(port("ns", "rr", "", Protocol.TCP, "198.19.0.20", 80).option(SchedulerCatalog.SCHEDULER_KEY, "rr").resolve(three),
                port("ns", "sh", "", Protocol.TCP, "198.19.0.21", 80).option(SchedulerCatalog.SCHEDULER_KEY, "source-hash").resolve(three),
                port("ns", "mgl", "", Protocol.TCP, "198.19.0.22", 80).option(SchedulerCatalog.SCHEDULER_KEY, "maglev").resolve(three));
        IptablesSettings settings = new IptablesSettings("0x4000", false, "198.18.0.0/24", null, true, true, "198.18.1.1");
        io.kubeferry.proxy.testing.GoldenFiles.standard().check("schedulers", renderer.full(state, settings, KernelState.NONE).text());
    }

    /** Rule counts of maglev dispatch: runs of slots on one endpoint merged into aligned mark/mask blocks, against one rule per slot. */
    @Test
    void maglevRuleCounts() {
        StringBuilder table = new StringBuilder(
                "maglev dispatch rules per Service chain (HMARK 2 + blocks):\n   M    N  blocks  one-per-slot\n");
        for (int m : new int[] {251, 1021}) {
            for (int n : new int[] {2, 3, 5, 10, 20}) {
                List<String> names = endpoints(n).stream().map(Endpoint::hostPort).toList();
                List<Integer> slots = io.kubeferry.proxy.scheduler.MaglevTable.compute(names, m,
                        io.kubeferry.proxy.scheduler.SlotTable.HASH_SEED);
                int blocks = IptablesRenderer.SlotBlock.of(slots).size();
                assertTrue(blocks <= m);
                table.append(String.format("%5d %4d %7d %13d%n", m, n, blocks, m));
            }
        }
        System.out.print(table);
    }
}
