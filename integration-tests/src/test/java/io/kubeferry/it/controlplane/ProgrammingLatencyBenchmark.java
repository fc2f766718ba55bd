package io.kubeferry.it.controlplane;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.BedAgent;
import io.kubeferry.it.BenchmarkScale;
import io.kubeferry.it.ClusterObjects;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.it.NetnsTestBed;
import io.kubeferry.proxy.Agent;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Network programming latency against a real API server: from an EndpointSlice write to the new endpoint
 * answering real traffic through the kernel rules (the client connects back to back until it does).
 * Upstream's defaults (minSyncPeriod 1 s); samples are spaced so each change starts a fresh sync.
 * Prints a table; asserts only that every change arrived.
 */
class ProgrammingLatencyBenchmark {

    @RegisterExtension
    @Order(1)
    static final NetnsTestBed BED = new NetnsTestBed();

    @RegisterExtension
    @Order(2)
    static final RealControlPlane CONTROL_PLANE = new RealControlPlane();

    private static final int SAMPLES = 10;

    /** CI: 100 Services (every code path in under a minute); dev/bench.sh: 100, 1,000 and 10,000. */
    static final List<Integer> SIZES = BenchmarkScale.pick(List.of(100), List.of(100, 1_000, 10_000));

    @Test
    void endpointSliceWriteToLiveRule() throws Exception {
        KubernetesClient client = CONTROL_PLANE.client();
        NetnsTestBed.Pod a = BED.addPod("lat-a", 40);
        NetnsTestBed.Pod b = BED.addPod("lat-b", 41);
        Vertx vertx = Vertx.vertx();
        KubernetesClient agentClient = CONTROL_PLANE.controlPlane().client();
        // Upstream's defaults, minSyncPeriod 1 s included.
        Agent agent = BedAgent.start(BedAgent.config(BED), agentClient, vertx, BED);
        StringBuilder table = new StringBuilder(String.format("%n%-46s %9s %8s %8s %8s %8s   [%s sizes]%n",
                "network programming latency (real API server)", "services", "p50 ms", "p90 ms", "max ms", "samples",
                BenchmarkScale.name()));
        int created = 0;
        try {
            for (int target : SIZES) {
                for (; created < target; created++) {
                    String name = "lat-" + created;
                    client.resource(new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                            .withNewSpec().addNewPort().withName("p").withPort(80).withTargetPort(new IntOrString(8080)).endPort()
                            .endSpec().build()).create();
                    client.resource(ClusterObjects.slice(name, "TCP", 8080, Ep.ready(a.ip(), "node-a"))).create();
                }
                // The agent's first full sync grows with the cluster (minutes at 10,000 Services on nft).
                long deadline = System.currentTimeMillis() + Math.max(120_000, target * 60L);
                while (agent.lastState().services().size() < target && System.currentTimeMillis() < deadline) {
                    Thread.sleep(200);
                }
                List<Long> latencies = new ArrayList<>();
                NetnsTestBed.Client c = BED.client();
                for (int i = 0; i < SAMPLES; i++) {
                    String name = "lat-" + (i * (target / SAMPLES));
                    String vip = client.services().inNamespace("default").withName(name).get().getSpec().getClusterIP();
                    // Past minSyncPeriod (1 s) since the sync of the previous revert: this change gets a sync of its own.
                    Thread.sleep(2200);
                    latencies.add(c.millisUntil(vip, 80, "lat-b", 30_000,
                            () -> client.resource(ClusterObjects.slice(name, "TCP", 8080, Ep.ready(b.ip(), "node-a"))).update()));
                    client.resource(ClusterObjects.slice(name, "TCP", 8080, Ep.ready(a.ip(), "node-a"))).update();
                }
                Collections.sort(latencies);
                table.append(String.format("%-46s %9d %8d %8d %8d %8d%n", "EndpointSlice write -> new endpoint answers", target,
                        latencies.get(latencies.size() / 2), latencies.get((int) Math.ceil(latencies.size() * 0.9) - 1),
                        latencies.get(latencies.size() - 1), latencies.size()));
            }
        } finally {
            BedAgent.stop(agent);
            agentClient.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        System.out.println(table);
    }
}
