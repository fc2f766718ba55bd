package io.kubeferry.it.controlplane;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.BedAgent;
import io.kubeferry.it.BenchmarkScale;
import io.kubeferry.it.ClusterObjects;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.it.NetnsTestBed;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Time from an EndpointSlice change to the kernel (the moved endpoint answers real traffic through the
 * Service) in a large cluster, while the agent is idle and while a full sync is owed or running: the case
 * where an agent that rewrites everything every syncPeriod stops programming changes at 10,000 Services.
 * <ul>
 *   <li><b>idle</b>: nothing owed; the change gets a partial sync;</li>
 *   <li><b>hourly full sync due</b>: an agent whose unforced full sync is always due (a test-only full-sync
 *       period instead of the hour); the change goes first in a partial sync, the full follows;</li>
 *   <li><b>forced full sync running</b>: this node's zone label changes (a change that touches every Service,
 *       so the agent rewrites everything); the EndpointSlice change is written while that full sync runs, and
 *       is served right after it.</li>
 * </ul>
 * Background Services have 5 endpoints each (not backed by pods: they only make the rule set large); the
 * sampled Services have one endpoint that moves from pod a to pod b. Prints a Markdown table; asserts only
 * that every change arrived. Small size in the test run, 10,000 Services with -Dkube-ferry.benchmark=full.
 */
class ChangeLatencyBenchmark {

    @RegisterExtension
    @Order(1)
    static final NetnsTestBed BED = new NetnsTestBed();

    @RegisterExtension
    @Order(2)
    static final RealControlPlane CONTROL_PLANE = new RealControlPlane();

    private static final int SERVICES = BenchmarkScale.pick(List.of(300), List.of(10_000)).get(0);
    private static final int SAMPLES = BenchmarkScale.pick(List.of(5), List.of(6)).get(0);
    /**
     * {@code -Dkube-ferry.benchmark.iptables=legacy} makes the agent pick iptables-legacy (through kubelet's
     * hint chain, as on a legacy node): a full sync of 10,000 Services is much faster there than with nft.
     */
    private static final String FLAVOUR = System.getProperty("kube-ferry.benchmark.iptables", "nft");
    /** How long one change may take to reach the kernel: a full sync of 10,000 Services takes minutes. */
    private static final long CHANGE_TIMEOUT_MS = BenchmarkScale.pick(List.of(60_000L), List.of(900_000L)).get(0);

    private record Row(String name, List<Long> latencies) {
    }

    @Test
    void endpointSliceChangeToKernelIdleAndWithAFullSyncOwed() throws Exception {
        KubernetesClient client = CONTROL_PLANE.client();
        NetnsTestBed.Pod a = BED.addPod("chg-a", 50);
        NetnsTestBed.Pod b = BED.addPod("chg-b", 51);
        client.resource(new NodeBuilder().withNewMetadata().withName("node-a")
                .addToLabels("topology.kubernetes.io/zone", "zone-0").endMetadata().build()).create();
        createServices(client, a);
        if (FLAVOUR.equals("legacy")) {
            BED.exec(BED.nodeNs(), "iptables-legacy", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT");
        }
        // Upstream's defaults: syncPeriod 30 s, minSyncPeriod 1 s.
        ProxyConfig config = BedAgent.config(BED);
        List<Row> rows = new ArrayList<>();
        long firstSync;
        Vertx vertx = Vertx.vertx();
        KubernetesClient agentClient = CONTROL_PLANE.controlPlane().client();
        try {
            long start = System.nanoTime();
            Agent agent = BedAgent.start(config, agentClient, vertx, BED);
            try {
                awaitProgrammed(agent);
                firstSync = (System.nanoTime() - start) / 1_000_000;
                rows.add(new Row("idle", sample(client, agent, a, b, 0, () -> true)));
                rows.add(new Row("forced full sync running (Node zone changed)", sample(client, agent, a, b, 1,
                        () -> fullSyncStarted(client, agent))));
            } finally {
                BedAgent.stop(agent);
            }
            // An agent whose unforced full sync is always due, and no periodic tick to start it by itself.
            ProxyConfig due = BedAgent.config(BED).withSyncPeriods(Duration.ofMinutes(30), Duration.ofSeconds(1));
            Agent hourly = Agent.start(due, agentClient, vertx, new ProcessToolRunner(BED.nodeNs()), Duration.ofMillis(1))
                    .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            try {
                awaitProgrammed(hourly);
                rows.add(new Row("hourly full sync due (change goes first)", sample(client, hourly, a, b, 2, () -> true)));
            } finally {
                BedAgent.stop(hourly);
            }
        } finally {
            agentClient.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        StringBuilder table = new StringBuilder(String.format(
                "%nEndpointSlice change -> kernel (%s size, iptables-%s, %d endpoints per background Service, minSyncPeriod 1 s, "
                        + "agent start to all Services programmed %d ms)%n%n",
                BenchmarkScale.name(), FLAVOUR, ServiceFleet.ENDPOINTS_PER_SERVICE, firstSync));
        table.append("| case | Services | samples | p50 ms | p90 ms | max ms |\n|---|---:|---:|---:|---:|---:|\n");
        for (Row row : rows) {
            List<Long> l = new ArrayList<>(row.latencies());
            Collections.sort(l);
            table.append(String.format("| %s | %d | %d | %d | %d | %d |%n", row.name(), SERVICES, l.size(), l.get(l.size() / 2),
                    l.get((int) Math.ceil(l.size() * 0.9) - 1), l.get(l.size() - 1)));
        }
        System.out.println(table);
    }

    /** SERVICES Services: SAMPLES x 3 sampled ones on pod a, the rest with 5 endpoints that only fill the rules. */
    private static void createServices(KubernetesClient client, NetnsTestBed.Pod a) throws Exception {
        ServiceFleet.create(client, "chg-", SERVICES, n -> sampled(n) ? new Ep[] {Ep.ready(a.ip(), "node-a")} : ServiceFleet.background(n));
    }

    /** Sampled Services are spread over the cluster: case c, sample i is Service (c * SAMPLES + i) * stride. */
    private static int sampledService(int caseIndex, int sample) {
        return (caseIndex * SAMPLES + sample) * (SERVICES / (3 * SAMPLES));
    }

    private static boolean sampled(int service) {
        int stride = SERVICES / (3 * SAMPLES);
        return service % stride == 0 && service / stride < 3 * SAMPLES;
    }

    private static void awaitProgrammed(Agent agent) throws InterruptedException {
        assertTrue(waitFor(() -> agent.lastState().services().size() >= SERVICES && agent.syncIdle(), 30 * 60_000, 100),
                "all " + SERVICES + " Services programmed");
    }

    /**
     * SAMPLES changes: each moves one sampled Service from pod a to pod b, after the agent is idle and
     * {@code before} set up the case, and is timed until pod b answers through the Service.
     */
    private static List<Long> sample(KubernetesClient client, Agent agent, NetnsTestBed.Pod a, NetnsTestBed.Pod b, int caseIndex,
            BooleanSupplier before) throws Exception {
        List<Long> latencies = new ArrayList<>();
        NetnsTestBed.Client c = BED.client();
        for (int i = 0; i < SAMPLES; i++) {
            String name = "chg-" + sampledService(caseIndex, i);
            String vip = client.services().inNamespace(ClusterObjects.NAMESPACE).withName(name).get().getSpec().getClusterIP();
            assertTrue(waitFor(agent::syncIdle, CHANGE_TIMEOUT_MS, 20), "agent idle before the sample");
            // Past minSyncPeriod since the last sync, so the change starts a sync of its own when nothing is owed.
            Thread.sleep(1200);
            assertTrue(before.getAsBoolean(), name + ": case set up");
            latencies.add(c.millisUntil(vip, 80, "chg-b", CHANGE_TIMEOUT_MS,
                    () -> client.resource(ClusterObjects.slice(name, "TCP", 8080, Ep.ready(b.ip(), "node-a"))).update()));
        }
        return latencies;
    }

    /**
     * Moves this node to another zone and waits until the full sync that follows runs. A small full sync can
     * be over between two polls: then it is tried again, so the change always lands while one runs.
     */
    private static boolean fullSyncStarted(KubernetesClient client, Agent agent) {
        for (int attempt = 0; attempt < 5; attempt++) {
            int before = agent.successfulSyncs();
            String zone = "zone-" + System.nanoTime();
            client.nodes().withName("node-a").edit(n -> new NodeBuilder(n).editMetadata()
                    .addToLabels("topology.kubernetes.io/zone", zone).endMetadata().build());
            boolean seen = waitFor(() -> agent.fullSyncRunning()
                    || (agent.successfulSyncs() > before && agent.lastResult().full()), 30_000, 1);
            if (seen && agent.fullSyncRunning()) {
                return true;
            }
            waitFor(agent::syncIdle, CHANGE_TIMEOUT_MS, 20);
        }
        return false;
    }

    private static boolean waitFor(BooleanSupplier condition, long timeoutMs, long pollMs) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(pollMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return condition.getAsBoolean();
    }
}
