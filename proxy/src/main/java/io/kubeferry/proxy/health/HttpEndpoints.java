package io.kubeferry.proxy.health;

import io.kubeferry.proxy.config.HostPort;
import io.kubeferry.proxy.metrics.MetricsExposition;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The agent's HTTP endpoints on Vert.x, path for path as kube-proxy serves them (cmd/kube-proxy/app/server.go
 * serveHealthz and serveMetrics), plus kube-ferry's /debug/state:
 * <ul>
 *   <li>healthz address: /healthz and /livez, the proxier's health (ProxyHealth), counted in
 *       kubeproxy_proxy_healthz_total / kubeproxy_proxy_livez_total by code;</li>
 *   <li>metrics address: /metrics, /proxyMode (the mode as plain text), /configz (the effective
 *       KubeProxyConfiguration as JSON), /healthz and /healthz/ping (upstream installs the generic
 *       component healthz there: a ping that answers "ok" while the process serves, not the proxier's
 *       health), and /debug/state.</li>
 * </ul>
 */
public final class HttpEndpoints {

    /**
     * What the metrics address serves besides /metrics.
     *
     * @param proxyMode  the mode name /proxyMode answers ("iptables", "ipvs")
     * @param configz    the /configz body: {@code {"kubeproxy.config.k8s.io": {...}}}
     * @param debugState the /debug/state body
     */
    public record MetricsPaths(String proxyMode, Supplier<String> configz, Supplier<String> debugState) {

        public MetricsPaths {
            Objects.requireNonNull(proxyMode, "proxyMode");
            Objects.requireNonNull(configz, "configz");
            Objects.requireNonNull(debugState, "debugState");
        }
    }

    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json";

    private final Vertx vertx;
    private final ProxyHealth health;
    private final PrometheusMeterRegistry registry;
    private final MetricsExposition exposition;
    private final MetricsPaths paths;
    /**
     * The servers in start order (healthz, then metrics): ports() answers in that order whichever bind
     * completes first.
     */
    private final List<Future<HttpServer>> servers = new ArrayList<>();

    public HttpEndpoints(Vertx vertx, ProxyHealth health, PrometheusMeterRegistry registry, MetricsPaths paths) {
        this.vertx = vertx;
        this.health = health;
        this.registry = registry;
        this.exposition = new MetricsExposition(registry);
        this.paths = paths;
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
        servers.addAll(started);
        return Future.all(started).mapEmpty();
    }

    /** The port each listening server got, healthz first (useful when configured with port 0). */
    public List<Integer> ports() {
        return listening().stream().map(HttpServer::actualPort).toList();
    }

    private List<HttpServer> listening() {
        return servers.stream().filter(Future::succeeded).map(Future::result).toList();
    }

    private Future<HttpServer> listen(String address, io.vertx.core.Handler<HttpServerRequest> handler) {
        HostPort bind = HostPort.parse(address);
        return vertx.createHttpServer(http1Only()).requestHandler(handler).listen(bind.port(), bind.host());
    }

    /**
     * Plain HTTP/1.1, as kube-proxy's Go servers speak it: no cleartext HTTP/2 upgrade, which scrapers and
     * probes never need and which left clients that offer it (the JDK's default client) waiting.
     */
    static io.vertx.core.http.HttpServerOptions http1Only() {
        return new io.vertx.core.http.HttpServerOptions().setHttp2ClearTextEnabled(false);
    }

    private void health(HttpServerRequest request) {
        Instant now = Instant.now();
        ProxyHealth.Answer answer;
        String path = request.path();
        if (path.equals("/healthz")) {
            answer = health.healthz(now);
            count("kubeproxy.proxy.healthz", "Cumulative proxy healthz HTTP status", answer.status());
        } else if (path.equals("/livez")) {
            answer = health.livez(now);
            count("kubeproxy.proxy.livez", "Cumulative proxy livez HTTP status", answer.status());
        } else {
            request.response().setStatusCode(404).end();
            return;
        }
        reply(request, JSON).setStatusCode(answer.status()).end(answer.body());
    }

    /** Upstream's counters by code: a code gets its sample when first answered, as a Go CounterVec child. */
    private void count(String name, String help, int code) {
        Counter.builder(name).tag("code", String.valueOf(code)).description(help).register(registry).increment();
    }

    private void metrics(HttpServerRequest request) {
        switch (request.path()) {
            case "/metrics" -> reply(request, MetricsExposition.CONTENT_TYPE).end(exposition.scrape());
            case "/proxyMode" -> reply(request, TEXT).end(paths.proxyMode());
            case "/configz" -> reply(request, JSON).end(paths.configz().get());
            // The generic component healthz upstream installs (k8s.io/apiserver healthz.InstallHandler, ping only).
            case "/healthz", "/healthz/ping" -> reply(request, TEXT)
                    .end(request.params().contains("verbose") ? "[+]ping ok\nhealthz check passed\n" : "ok");
            case "/debug/state" -> reply(request, JSON).end(paths.debugState().get());
            default -> request.response().setStatusCode(404).end();
        }
    }

    private static HttpServerResponse reply(HttpServerRequest request, String contentType) {
        return request.response().putHeader("Content-Type", contentType).putHeader("X-Content-Type-Options", "nosniff");
    }

    public Future<Void> stop() {
        List<Future<Void>> closed = listening().stream().map(HttpServer::close).toList();
        servers.clear();
        return Future.all(closed).mapEmpty();
    }
}
