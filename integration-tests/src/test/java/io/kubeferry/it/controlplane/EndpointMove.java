package io.kubeferry.it.controlplane;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.ClusterObjects;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.it.NetnsTestBed;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One sample of network programming latency: a Service's EndpointSlice (port 8080, as ClusterObjects.slice)
 * rewritten to name only {@code to}, timed from the API write until {@code to} answers through the
 * Service's IP on port 80 (the traffic client connects back to back until it does).
 */
final class EndpointMove {

    private EndpointMove() {
    }

    /** Moves {@code service} to pod {@code to} and returns the milliseconds until it answers; fails if it never does. */
    static long millis(KubernetesClient client, NetnsTestBed.Client traffic, String service, String vip, NetnsTestBed.Pod to,
                       long timeoutMs) throws Exception {
        CompletableFuture<String> reached = CompletableFuture.supplyAsync(() -> {
            try {
                return traffic.ask("until " + vip + " 80 " + to.name() + " " + timeoutMs);
            } catch (Exception e) {
                return "ERROR " + e;
            }
        });
        long start = System.nanoTime();
        client.resource(ClusterObjects.slice(service, "TCP", 8080, Ep.ready(to.ip(), "node-a"))).update();
        assertEquals("reached", reached.get(timeoutMs + 10_000, TimeUnit.MILLISECONDS), service + " moved to " + to.name());
        return (System.nanoTime() - start) / 1_000_000;
    }
}
