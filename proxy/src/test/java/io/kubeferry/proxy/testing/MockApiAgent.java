package io.kubeferry.proxy.testing;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ToolRunner;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * An agent on its own Vert.x against Fabric8's CRUD mock API (the client a test's
 * {@code @EnableKubernetesMockClient(crud = true)} injects), as node-a. {@link #close()} stops it and deletes the
 * Services and EndpointSlices the test created, because the mock server outlives one test method.
 */
public final class MockApiAgent implements AutoCloseable {

    /**
     * HTTP/1.1, as Prometheus scrapes and kubelet probes speak it (the JDK client's default tries an h2c
     * upgrade; with it a /metrics GET has hung here for minutes). The timeout makes any hang a failure
     * instead of a stuck build.
     */
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private final KubernetesClient client;
    private final Vertx vertx;
    private final Agent agent;

    private MockApiAgent(KubernetesClient client, Vertx vertx, Agent agent) {
        this.client = client;
        this.vertx = vertx;
        this.agent = agent;
    }

    /** Upstream defaults, but node-a, HTTP on free loopback ports, and no minSyncPeriod so tests wait less. */
    public static ProxyConfig config() {
        return ProxyConfig.defaults().withHostnameOverride("node-a").withBindAddresses("127.0.0.1:0", "127.0.0.1:0")
                .withSyncPeriods(Duration.ofSeconds(30), Duration.ZERO);
    }

    /** Registers the Node object node-a and starts the agent with {@code kernel} as its tool runner. */
    public static MockApiAgent start(KubernetesClient client, ProxyConfig config, ToolRunner kernel) throws Exception {
        return start(client, vertx -> Agent.start(config, client, vertx, kernel));
    }

    /** The same with a dataplane provider of the test's own, not one registered under the configuration's mode. */
    public static MockApiAgent start(KubernetesClient client, ProxyConfig config, ToolRunner kernel,
            io.kubeferry.proxy.dataplane.DataplaneProvider provider) throws Exception {
        return start(client, vertx -> Agent.start(config, client, vertx, kernel, provider));
    }

    private static MockApiAgent start(KubernetesClient client, java.util.function.Function<Vertx, io.vertx.core.Future<Agent>> starting)
            throws Exception {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().build()).createOr(r -> r.update());
        Vertx vertx = Vertx.vertx();
        try {
            Agent agent = starting.apply(vertx).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return new MockApiAgent(client, vertx, agent);
        } catch (Exception e) {
            vertx.close();
            throw e;
        }
    }

    /** Waits up to 15 s for {@code condition}, polling; fails naming {@code what}. */
    public static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** GET {@code path} on one of the agent's loopback ports ({@link Agent#httpPorts()}). */
    public static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public Agent agent() {
        return agent;
    }

    @Override
    public void close() throws java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
        // Not InterruptedException (AutoCloseable's close should not throw it): an interrupt is kept for the caller.
        try {
            stopAndClean();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void stopAndClean()
            throws InterruptedException, java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
        agent.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        client.services().inAnyNamespace().delete();
        client.discovery().v1().endpointSlices().inAnyNamespace().delete();
    }
}
