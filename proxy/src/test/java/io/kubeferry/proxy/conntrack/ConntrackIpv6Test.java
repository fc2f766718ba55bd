package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.AnsweredTools;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The conntrack hooks on IPv6 states (issue 14): conntrack(8) lists IPv4 unless told {@code -f ipv6}, so every listing
 * and deletion of an IPv6 state carries it, while the IPv4 commands stay as they were; the hooks get each family's
 * changes on their own, never merged across families.
 */
class ConntrackIpv6Test {

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final List<ToolCommand> ran = new CopyOnWriteArrayList<>();
    private ConntrackHooks hooks;

    @AfterEach
    void close() {
        if (hooks != null) {
            hooks.close();
        }
    }

    /** An IPv6 state of the given Service ports. */
    private static ProxyState v6(long generation, ResolvedService... services) {
        TreeMap<ServicePortName, ResolvedService> map = new TreeMap<>();
        for (ResolvedService s : services) {
            map.put(s.name(), s);
        }
        return new ProxyState(state().node(), map, generation, List.of(), IpFamily.IPv6);
    }

    /** Records every runAllowingFailure and answers listings with {@code listing}, deletions with one deleted flow. */
    private ToolRunner answering(String listing) {
        return AnsweredTools.of(new FakeNetfilter(), command -> {
            ran.add(command);
            return command.args().contains("-L")
                    ? new ToolResult(0, listing, "")
                    : new ToolResult(0, "", "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted.\n");
        });
    }

    private static String flow(String proto, String client, int sport, String dst, int dport, String replySrc, int replySport) {
        return proto + "      17 29 src=" + client + " dst=" + dst + " sport=" + sport + " dport=" + dport + " src=" + replySrc + " dst="
                + client + " sport=" + replySport + " dport=" + sport + " mark=0 use=1";
    }

    @Test
    void staleUdpListsAndDeletesInTheIPv6Table() throws Exception {
        String listing = flow("udp", "2001:db8:3::2", 40000, "2001:db8:1::53", 53, "2001:db8::7", 53) + "\n"
                + flow("udp", "2001:db8:3::2", 40001, "2001:db8:1::53", 53, "2001:db8::5", 53) + "\n";
        StaleUdpConntrack hook = new StaleUdpConntrack(answering(listing), metrics);
        ProxyState current = v6(1,
                port("kube-system", "dns", "dns", Protocol.UDP, "2001:db8:1::53", 53).resolve(endpoint("2001:db8::5", 53)));
        hook.afterSync(new ConntrackChange(ProxyState.empty(current.node(), IpFamily.IPv6), current, current.services().keySet(), true));

        assertEquals(List.of("conntrack -L -f ipv6 -p udp",
                "conntrack -D -f ipv6 -p udp --orig-dst 2001:db8:1::53 --dport 53 --reply-src 2001:db8::7"),
                ran.stream().map(ToolCommand::display).toList());
        assertEquals(1.0, metrics.get("kubeproxy.conntrack.reconciler.deleted.entries").tag("ip_family", "IPv6").counter().count());
        assertEquals(0.0, metrics.get("kubeproxy.conntrack.reconciler.deleted.entries").tag("ip_family", "IPv4").counter().count(),
                "upstream labels each family's reconciler on its own");
    }

    @Test
    void aRemovedIPv6EndpointsTcpFlowsAreCutInTheIPv6Table() throws Exception {
        RemovedEndpointTcpFlows hook = new RemovedEndpointTcpFlows(answering(""), true, metrics);
        var web = port("ns", "web", "", Protocol.TCP, "2001:db8:1::80", 80);
        ProxyState before = v6(1, web.resolve(endpoint("2001:db8::5", 8080), endpoint("2001:db8::7", 8080)));
        ProxyState after = v6(2, web.resolve(endpoint("2001:db8::5", 8080)));
        hook.afterSync(new ConntrackChange(before, after, after.services().keySet(), false));
        assertEquals(List.of("conntrack -D -f ipv6 -p tcp --dst-nat --reply-src 2001:db8::7 --reply-port-src 8080"),
                ran.stream().map(ToolCommand::display).toList());
    }

    @Test
    void serviceCountsListEachFamilyAndSumADualStackServicesFlows() throws Exception {
        ToolRunner tools = AnsweredTools.of(new FakeNetfilter(), command -> {
            ran.add(command);
            boolean v6 = command.args().contains("ipv6");
            return new ToolResult(0, v6
                    ? flow("tcp", "2001:db8:3::2", 40000, "2001:db8:1::80", 80, "2001:db8::5", 8080) + "\n"
                    : flow("tcp", "198.18.1.2", 40000, "198.19.0.80", 80, "198.18.0.5", 8080) + "\n", "");
        });
        ServiceConntrackCounts counts = new ServiceConntrackCounts(tools, Duration.ZERO, metrics);
        ProxyState v4 = state(port("ns", "web", "", Protocol.TCP, "198.19.0.80", 80).resolve(endpoint("198.18.0.5", 8080)));
        ProxyState v6 = v6(1, port("ns", "web", "", Protocol.TCP, "2001:db8:1::80", 80).resolve(endpoint("2001:db8::5", 8080)));
        counts.count(List.of(v4, v6));
        assertEquals(List.of("conntrack -L", "conntrack -L -f ipv6"), ran.stream().map(ToolCommand::display).toList());
        assertEquals(2.0, metrics.get("kubeferry.conntrack.service.entries").tag("service", "ns/web").gauge().value());
        assertEquals(2.0, metrics.get("kubeferry.conntrack.entries").gauge().value());
    }

    /** Records each change it is given; the first call waits for the test. */
    private static final class Gated implements ConntrackHook {

        final List<ConntrackChange> seen = new CopyOnWriteArrayList<>();
        final CountDownLatch gate = new CountDownLatch(1);

        @Override
        public String name() {
            return "gated";
        }

        @Override
        public void afterSync(ConntrackChange change) throws InterruptedException {
            seen.add(change);
            gate.await();
        }
    }

    @Test
    void aBusyHookGetsEachFamilysChangesMergedWithinTheFamilyOnlyAndTheFamiliesTakeTurns() throws Exception {
        Gated hook = new Gated();
        hooks = new ConntrackHooks(List.of(hook), Duration.ofSeconds(30), metrics);
        var web4 = port("ns", "web", "", Protocol.TCP, "198.19.0.80", 80);
        var web6 = port("ns", "web", "", Protocol.TCP, "2001:db8:1::80", 80);
        ProxyState v4a = state(web4.resolve(endpoint("198.18.0.5", 8080)));
        ProxyState v4b = state(web4.resolve(endpoint("198.18.0.6", 8080)));
        ProxyState v4c = state(web4.resolve(endpoint("198.18.0.7", 8080)));
        ProxyState v6a = v6(1, web6.resolve(endpoint("2001:db8::5", 8080)));
        ProxyState v6b = v6(2, web6.resolve(endpoint("2001:db8::6", 8080)));
        hooks.synced(ProxyState.empty(v4a.node()), v4a, Set.of(), true);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (hook.seen.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5); // the hook is in its first call before the others come
        }
        hooks.synced(ProxyState.empty(v6a.node(), IpFamily.IPv6), v6a, Set.of(), true);
        hooks.synced(v4a, v4b, Set.of(), false);
        hooks.synced(v6a, v6b, Set.of(), false);
        hooks.synced(v4b, v4c, Set.of(), false);
        while (!hooks.offered() && System.nanoTime() < deadline) {
            Thread.sleep(5); // every change is pending before the hook returns from its first call
        }
        hook.gate.countDown();
        while (!hooks.idle() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(hooks.idle());
        List<ConntrackChange> seen = hook.seen;
        assertEquals(List.of(IpFamily.IPv4, IpFamily.IPv6, IpFamily.IPv4), seen.stream().map(c -> c.current().family()).toList(),
                "IPv4's first change, then IPv6's turn, then IPv4's merged rest");
        for (ConntrackChange c : seen) {
            assertEquals(c.current().family(), c.previous().family(), "a change never spans two families");
        }
        assertEquals(List.of(1, 2, 2), seen.stream().map(ConntrackChange::syncs).toList());
        assertEquals(v6b, seen.get(1).current());
        assertEquals(v4a, seen.get(2).previous());
        assertEquals(v4c, seen.get(2).current());
    }
}
