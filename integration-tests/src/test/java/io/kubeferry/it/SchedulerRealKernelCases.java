package io.kubeferry.it;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.testing.MockApiAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static io.kubeferry.it.ClusterObjects.service;
import static io.kubeferry.it.ClusterObjects.slice;
import static io.kubeferry.it.Traffic.awaitAnswer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduling algorithms with real connections, per mode (SchedulerRealKernelTest: iptables,
 * NftablesSchedulerRealKernelTest): the agent (in this JVM, against a CRUD mock API) programs the bed's node
 * namespace; the client namespace holds many addresses, so one client stands for many. Where a hash decides, the
 * kernel's rules are also read back and the mode's hash model (iptables: HMARK through the packet tracer; nftables:
 * nft_jhash into the slot map) must predict the pod each real connection reached.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SchedulerRealKernelCases {

    final NetnsTestBed bed;

    SchedulerRealKernelCases(NetnsTestBed bed) {
        this.bed = bed;
    }

    /** The mock API's client (each concrete class has its own, injected by the mock server extension). */
    abstract KubernetesClient client();

    /** The agent's configuration for this mode. */
    abstract ProxyConfig config(ProxyConfig base) throws Exception;

    /** What the mode's hash model says each client address reaches through {@code vip}, read from the kernel's rules. */
    abstract Map<String, String> predicted(String vip, String service, Map<String, String> podByEndpoint) throws Exception;

    /** Client addresses 198.18.1.20 - 198.18.1.59, on the client namespace's link to the node. */
    static final List<String> CLIENTS = java.util.stream.IntStream.range(20, 60).mapToObj(i -> "198.18.1." + i).toList();

    private MockApiAgent agent;
    private final List<NetnsTestBed.Pod> pods = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        for (int i = 1; i <= 4; i++) {
            pods.add(bed.addPod("pod-" + i, 10 + i));
        }
        for (String address : CLIENTS) {
            bed.exec(bed.clientNs(), "ip", "addr", "add", address + "/24", "dev", "eth0");
        }
        // A long sync period: a periodic full sync rewrites every chain, which restarts the nth counters mid-test.
        agent = MockApiAgent.start(client(), config(BedAgent.config(bed).withSyncPeriods(Duration.ofMinutes(10), Duration.ofMillis(100))),
                new ProcessToolRunner(bed.nodeNs()));
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    /** Creates a Service asking for {@code scheduler} over the first pods and waits until its ClusterIP answers. */
    private NetnsTestBed.Client serve(String name, String clusterIP, String scheduler, int podCount) throws Exception {
        Service svc = service(name, clusterIP, "TCP", 80, 8080).editMetadata().addToAnnotations(SchedulerCatalog.SCHEDULER_KEY, scheduler)
                .endMetadata().build();
        client().resource(svc).create();
        client().resource(slice(name, "TCP", 8080, endpoints(podCount))).create();
        NetnsTestBed.Client c = bed.client();
        awaitAnswer(scheduler + " Service programmed", () -> c.tcp(clusterIP, 80), a -> a.startsWith("pod-"));
        return c;
    }

    private Ep[] endpoints(int count) {
        return pods.subList(0, count).stream().map(p -> Ep.ready(p.ip(), "node-b")).toArray(Ep[]::new);
    }

    @Test
    void roundRobinSplitsThirtyNewConnectionsTenTenTen() throws Exception {
        NetnsTestBed.Client c = serve("rr", "198.19.0.20", "rr", 3);
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < 30; i++) {
            counts.merge(c.tcp("198.19.0.20", 80), 1, Integer::sum);
        }
        System.out.println("rr, 30 new connections over 3 pods: " + counts);
        assertEquals(Map.of("pod-1", 10, "pod-2", 10, "pod-3", 10), counts);
    }

    @Test
    void sourceHashKeepsEachClientAddressOnOnePod() throws Exception {
        NetnsTestBed.Client c = serve("sh", "198.19.0.21", "source-hash", 3);
        Map<String, String> first = where(c, "198.19.0.21");
        for (int round = 0; round < 3; round++) {
            assertEquals(first, where(c, "198.19.0.21"), "round " + round + ": every address again reaches its pod");
        }
        System.out.println("source-hash, " + CLIENTS.size() + " client addresses over 3 pods: " + spread(first));
        assertEquals(3, Set.copyOf(first.values()).size(), "the addresses spread over every pod: " + spread(first));
        assertEquals(first, predicted("198.19.0.21", "sh", podByEndpoint()), "the hash model predicts the kernel's choice");
    }

    @Test
    void maglevKeepsClientsInPlaceWhenAnEndpointGoes() throws Exception {
        NetnsTestBed.Client c = serve("mgl", "198.19.0.22", "maglev", 4);
        Map<String, String> before = where(c, "198.19.0.22");
        assertEquals(before, where(c, "198.19.0.22"), "stable while the endpoints are");
        assertEquals(before, predicted("198.19.0.22", "mgl", podByEndpoint()), "the hash model predicts the kernel's choice");

        client().resource(slice("mgl", "TCP", 8080, endpoints(3))).update();
        awaitAnswer("pod-4 gone", () -> String.join(",", Set.copyOf(where(c, "198.19.0.22").values())), a -> !a.contains("pod-4"));
        Map<String, String> after = where(c, "198.19.0.22");
        long kept = CLIENTS.stream().filter(a -> before.get(a).equals(after.get(a))).count();
        long onGone = before.values().stream().filter("pod-4"::equals).count();
        double keptFraction = (double) kept / CLIENTS.size();
        System.out.printf("maglev, %d client addresses over 4 pods %s; pod-4 removed: %d kept their pod (%.3f; (N-1)/N = 0.75), "
                + "%d were on pod-4%n", CLIENTS.size(), spread(before), kept, keptFraction, onGone);
        // Every client of a surviving pod stays, give or take Maglev's small reshuffle (about 2% of slots at M=1021, N=4).
        assertTrue(kept >= CLIENTS.size() - onGone - 2, "kept " + kept + " of " + (CLIENTS.size() - onGone) + " on surviving pods");
        assertTrue(Math.abs(keptFraction - 0.75) <= 0.2, "about (N-1)/N kept: " + keptFraction);
    }

    /** The pod each client address reaches through {@code vip}. */
    private static Map<String, String> where(NetnsTestBed.Client c, String vip) throws Exception {
        Map<String, String> where = new TreeMap<>();
        for (String address : CLIENTS) {
            where.put(address, c.tcpFrom(address, vip, 80));
        }
        return where;
    }

    private static Map<String, Long> spread(Map<String, String> where) {
        return new TreeMap<>(where.values().stream().collect(Collectors.groupingBy(p -> p, Collectors.counting())));
    }

    /** Pod name by endpoint {@code ip:8080}. */
    Map<String, String> podByEndpoint() {
        return pods.stream().collect(Collectors.toMap(p -> p.ip() + ":8080", NetnsTestBed.Pod::name));
    }
}
