package io.kubeferry.proxy.health;

import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * One HTTP server per healthCheckNodePort (Services with externalTrafficPolicy Local): load balancers ask
 * it whether this node has local endpoints. Same answer as upstream: JSON with the Service and its local
 * endpoint count, the X-Load-Balancing-Endpoint-Weight header, 200 iff there are local endpoints and the
 * proxy is healthy. Updated after each successful sync; runs on the agent's context.
 */
public final class ServiceHealthServers {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceHealthServers.class);

    private record Entry(String namespace, String name, int localEndpoints) {
    }

    private final Vertx vertx;
    private final String host;
    private final Predicate<Instant> proxyHealthy;
    private final Map<Integer, HttpServer> servers = new HashMap<>();
    private volatile Map<Integer, Entry> entries = Map.of();

    public ServiceHealthServers(Vertx vertx, String host, Predicate<Instant> proxyHealthy) {
        this.vertx = vertx;
        this.host = host;
        this.proxyHealthy = proxyHealthy;
    }

    public void update(ProxyState state) {
        Map<Integer, Entry> wanted = new HashMap<>();
        for (ResolvedService svc : state.services().values()) {
            int port = svc.port().healthCheckNodePort();
            if (port > 0 && svc.port().usesExternalLocal()) {
                Entry previous = wanted.get(port);
                int local = svc.localEndpoints().size() + (previous == null ? 0 : previous.localEndpoints());
                wanted.put(port, new Entry(svc.name().namespace(), svc.name().name(), local));
            }
        }
        entries = Map.copyOf(wanted);
        servers.entrySet().removeIf(e -> {
            if (!wanted.containsKey(e.getKey())) {
                e.getValue().close();
                return true;
            }
            return false;
        });
        for (Integer port : wanted.keySet()) {
            if (!servers.containsKey(port)) {
                servers.put(port, null);
                vertx.createHttpServer(HttpEndpoints.http1Only()).requestHandler(request -> {
                    Entry entry = entries.get(port);
                    if (entry == null) {
                        request.response().setStatusCode(503).end();
                        return;
                    }
                    boolean healthy = proxyHealthy.test(Instant.now());
                    int status = entry.localEndpoints() > 0 && healthy ? 200 : 503;
                    request.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                            .putHeader("X-Content-Type-Options", "nosniff")
                            .putHeader("X-Load-Balancing-Endpoint-Weight", String.valueOf(entry.localEndpoints()))
                            .end(new JsonObject()
                                    .put("service", new JsonObject().put("namespace", entry.namespace()).put("name", entry.name()))
                                    .put("localEndpoints", entry.localEndpoints()).put("serviceProxyHealthy", healthy).encode());
                }).listen(port, host).onComplete(ar -> {
                    if (ar.succeeded() && servers.containsKey(port)) {
                        servers.put(port, ar.result());
                    } else if (ar.succeeded()) {
                        ar.result().close();
                    } else {
                        servers.remove(port);
                        LOG.warn("health check node port {} cannot listen: {}", port, ar.cause().getMessage());
                    }
                });
            }
        }
    }

    public void close() {
        servers.values().forEach(s -> {
            if (s != null) {
                s.close();
            }
        });
        servers.clear();
    }
}
