package io.kubeferry.proxy.watch;

import ch.qos.logback.classic.Level;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDRBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.state.ClusterState;
import io.kubeferry.proxy.testing.LogCapture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ServiceCIDR objects through the informer into the state, against Fabric8's CRUD mock API; and an API server
 * that does not serve them (404, as before Kubernetes 1.33), which must not hold up the first sync.
 */
class ClusterWatchServiceCIDRTest {

    private final Vertx vertx = Vertx.vertx();
    private final io.vertx.core.Context context = vertx.getOrCreateContext();
    private final ClusterState state = new ClusterState("node-a", "", ClusterWatch.KINDS, new SimpleMeterRegistry());
    private final AtomicInteger syncs = new AtomicInteger();
    private final AtomicInteger fullSyncs = new AtomicInteger();
    private KubernetesMockServer server;
    private KubernetesClient client;
    private ClusterWatch watch;

    @AfterEach
    void stop() throws Exception {
        if (watch != null) {
            CompletableFuture<Void> closed = new CompletableFuture<>();
            context.runOnContext(v -> {
                watch.close();
                closed.complete(null);
            });
            closed.get(10, TimeUnit.SECONDS);
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.destroy();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** The CRUD mock, answering 404 for ServiceCIDRs when {@code served} is false. */
    private void startServer(boolean served) {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        KubernetesMixedDispatcher dispatcher = new KubernetesMixedDispatcher(responses) {

            @Override
            public MockResponse dispatch(RecordedRequest request) {
                if (!served && request.getPath().startsWith("/apis/networking.k8s.io/v1/servicecidrs")) {
                    return new MockResponse().setResponseCode(404)
                            .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                    + "\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\",\"code\":404}");
                }
                return super.dispatch(request);
            }
        };
        server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, dispatcher, false);
        server.init();
        client = server.createClient();
    }

    private void startWatch() throws Exception {
        watch = new ClusterWatch(client, new ApiReachability(), "node-a", "", Duration.ofMinutes(10), context, state,
                syncs::incrementAndGet, fullSyncs::incrementAndGet);
        CompletableFuture<Void> started = new CompletableFuture<>();
        context.runOnContext(v -> {
            watch.start();
            started.complete(null);
        });
        started.get(10, TimeUnit.SECONDS);
    }

    private <T> T onContext(Supplier<T> read) throws Exception {
        CompletableFuture<T> out = new CompletableFuture<>();
        context.runOnContext(v -> out.complete(read.get()));
        return out.get(10, TimeUnit.SECONDS);
    }

    private void await(String what, Supplier<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!onContext(condition)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    private static ServiceCIDR serviceCIDR(String name, String cidr) {
        return new ServiceCIDRBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().withCidrs(cidr).endSpec().build();
    }

    private List<String> cidrs() throws Exception {
        return onContext(() -> state.serviceCIDRs().stream().map(Cidr::toString).toList());
    }

    @Test
    void serviceCIDRsReachTheStateAndEachChangeAsksForAFullSync() throws Exception {
        startServer(true);
        client.resource(serviceCIDR("kubernetes", "198.19.0.0/16")).create();
        startWatch();
        await("initial lists in", state::ready);
        assertEquals(List.of("198.19.0.0/16"), cidrs(), "the initial list is in before the first sync");

        int fullBefore = fullSyncs.get();
        client.resource(serviceCIDR("extra", "10.96.0.0/12")).create();
        await("the second ServiceCIDR", () -> state.serviceCIDRs().size() == 2);
        assertEquals(List.of("10.96.0.0/12", "198.19.0.0/16"), cidrs());
        await("a full sync asked for", () -> fullSyncs.get() > fullBefore);

        client.network().v1().serviceCIDRs().withName("extra").delete();
        await("the deleted one gone", () -> state.serviceCIDRs().size() == 1);
        assertEquals(List.of("198.19.0.0/16"), cidrs());
        assertEquals(List.of(Cidr.parse("198.19.0.0/16")), onContext(() -> state.take().state().serviceCIDRs()));
    }

    @Test
    void anApiServerWithoutServiceCIDRsDoesNotHoldUpTheFirstSync() throws Exception {
        startServer(false);
        List<String> warnings;
        try (LogCapture log = new LogCapture(ClusterWatch.class)) {
            startWatch();
            await("initial lists in", state::ready);
            // The informer keeps retrying (Fabric8's backoff): still one line, and no outage said.
            Thread.sleep(1500);
            warnings = log.lines(Level.WARN);
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).startsWith("ServiceCIDRs not read: this API server does not serve networking.k8s.io/v1 ServiceCIDR"),
                warnings.get(0));
        assertEquals(List.of(), cidrs());
        assertTrue(syncs.get() >= 1, "the first sync was asked for");
    }

    @Test
    void only404And403CountAsNotServedAnythingElseIsAnOutage() {
        assertTrue(ClusterWatch.unavailableReason(new java.util.concurrent.CompletionException(
                new KubernetesClientException("not found", 404, null))).orElseThrow().contains("does not serve"));
        assertTrue(ClusterWatch.unavailableReason(new KubernetesClientException("forbidden", 403, null)).orElseThrow()
                .contains("list/watch on servicecidrs"));
        assertTrue(ClusterWatch.unavailableReason(new KubernetesClientException("unavailable", 503, null)).isEmpty());
        assertTrue(ClusterWatch.unavailableReason(new java.net.ConnectException("Connection refused")).isEmpty());
    }
}
