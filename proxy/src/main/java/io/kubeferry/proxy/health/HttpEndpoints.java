package io.kubeferry.proxy.health;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The agent's HTTP endpoints on Vert.x: /healthz and /livez (upstream semantics) on the healthz address,
 * /metrics (Prometheus text) and /debug/state on the metrics address.
 */
public final class HttpEndpoints {

    private final Vertx vertx;
    private final ProxyHealth health;
    private final PrometheusMeterRegistry registry;
    private final Supplier<String> debugState;
    private final List<HttpServer> servers = new ArrayList<>();

    public HttpEndpoints(Vertx vertx, ProxyHealth health, PrometheusMeterRegistry registry, Supplier<String> debugState) {
        this.vertx = vertx;
        this.health = health;
        this.registry = registry;
        this.debugState = debugState;
    }

    /** Starts the servers ("" skips one); the future completes when both listen. */
    public Future<Void> start(String healthzAddress, String metricsAddress) {
        List<Future<HttpServer>> started = new ArrayList<>();
        if (!healthzAddress.isEmpty()) {
            started.add(listen(healthzAddress, this::health));
        }
        if (!metricsAddress.isEmpty()) {
            started.add(listen(metricsAddress, this::metrics));
        }
        return Future.all(started).mapEmpty();
    }

    /** The port a server got (useful when configured with port 0). */
    public List<Integer> ports() {
        return servers.stream().map(HttpServer::actualPort).toList();
    }

    private Future<HttpServer> listen(String address, io.vertx.core.Handler<HttpServerRequest> handler) {
        int colon = address.lastIndexOf(':');
        String host = address.substring(0, colon).replace("[", "").replace("]", "");
        int port = Integer.parseInt(address.substring(colon + 1));
        return vertx.createHttpServer().requestHandler(handler).listen(port, host).onSuccess(servers::add);
    }

    private void health(HttpServerRequest request) {
        Instant now = Instant.now();
        ProxyHealth.Answer answer;
        String path = request.path();
        if (path.equals("/healthz")) {
            answer = health.healthz(now);
            count(registry, "kubeproxy.proxy.healthz", answer.status());
        } else if (path.equals("/livez")) {
            answer = health.livez(now);
            count(registry, "kubeproxy.proxy.livez", answer.status());
        } else {
            request.response().setStatusCode(404).end();
            return;
        }
        request.response().setStatusCode(answer.status()).putHeader("Content-Type", "application/json")
                .putHeader("X-Content-Type-Options", "nosniff").end(answer.body());
    }

    private static void count(MeterRegistry registry, String name, int code) {
        Counter.builder(name).tag("code", String.valueOf(code)).register(registry).increment();
    }

    private void metrics(HttpServerRequest request) {
        switch (request.path()) {
            case "/metrics" -> request.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(registry.scrape());
            case "/debug/state" -> request.response().putHeader("Content-Type", "application/json").end(debugState.get());
            default -> request.response().setStatusCode(404).end();
        }
    }

    public Future<Void> stop() {
        List<Future<Void>> closed = servers.stream().map(HttpServer::close).toList();
        servers.clear();
        return Future.all(closed).mapEmpty();
    }
}
