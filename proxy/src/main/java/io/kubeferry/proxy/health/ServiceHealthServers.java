package io.kubeferry.proxy.health;

import io.kubeferry.proxy.config.NodePortAddresses;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * One HTTP server per healthCheckNodePort (Services with externalTrafficPolicy Local): load balancers ask
 * it whether this node has local endpoints. Same answer as upstream: JSON with the Service and its local
 * endpoint count, the X-Load-Balancing-Endpoint-Weight header, 200 iff there are local endpoints and the
 * proxy is healthy. Updated after each successful sync; runs on the agent's context.
 * <p>
 * Listens where upstream does (pkg/proxy/healthcheck newServiceHealthServer): on every address when
 * nodePortAddresses is empty or "all", else on each node address it selects, one server per address. Load
 * balancers probe the node's own addresses, so the healthz bind address (often 127.0.0.1) is not the place:
 * that was kube-ferry's choice once, and UpstreamDifferentialTest found the check unreachable from outside.
 */
public final class ServiceHealthServers {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceHealthServers.class);

    record Entry(String namespace, String name, int localEndpoints) {
    }

    /** Where one server listens. */
    private record Listen(String host, int port) {
    }

    private final Vertx vertx;
    private final List<String> nodePortAddresses;
    private final Predicate<Instant> proxyHealthy;
    private final Map<Listen, HttpServer> servers = new HashMap<>();
    private volatile Map<Integer, Entry> entries = Map.of();
    private List<String> warnedHosts;

    /** @param nodePortAddresses the configuration's nodePortAddresses (empty: every address) */
    public ServiceHealthServers(Vertx vertx, List<String> nodePortAddresses, Predicate<Instant> proxyHealthy) {
        this.vertx = vertx;
        this.nodePortAddresses = List.copyOf(nodePortAddresses);
        this.proxyHealthy = proxyHealthy;
    }

    /** The addresses upstream listens on: 0.0.0.0 for all, else the node addresses nodePortAddresses selects. */
    static List<String> hosts(List<String> nodePortAddresses, List<String> nodeAddresses) {
        return hosts(nodePortAddresses, nodeAddresses, false);
    }

    /**
     * The same on a node that may run IPv6: "all" is then {@code ::}, which on Linux also takes IPv4 connections
     * (a second server on 0.0.0.0 and the same port would fail with "address in use").
     */
    static List<String> hosts(List<String> nodePortAddresses, List<String> nodeAddresses, boolean ipv6) {
        if (NodePortAddresses.all(nodePortAddresses)) {
            return List.of(ipv6 ? "::" : "0.0.0.0");
        }
        // Per family, as upstream's per-family proxiers: "primary" is each family's primary address, and a list that
        // names no CIDR of a family means all of that family's addresses (merged, an IPv4-only list would leave the
        // IPv6 addresses out, and "primary" would pick the IPv4 one alone). The union is listened on.
        List<String> chosen = new java.util.ArrayList<>();
        for (IpFamily family : IpFamily.values()) {
            List<String> own = nodeAddresses.stream().filter(family::matches).toList();
            List<String> entries = NodePortAddresses.forFamily(nodePortAddresses, family);
            chosen.addAll(NodePortAddresses.all(entries) ? own : NodePortAddresses.select(entries, own));
        }
        return List.copyOf(chosen);
    }

    public void update(ProxyState state) {
        update(List.of(state));
    }

    /**
     * The states of every family the node programs. A dual-stack Service is in each with the same health check node
     * port; it has local endpoints when any family has (its count is the largest family's: the same pods, counted
     * once, not once per address family).
     */
    public void update(java.util.Collection<ProxyState> states) {
        Map<Integer, Entry> wanted = new HashMap<>();
        List<String> nodeAddresses = new java.util.ArrayList<>();
        boolean ipv6 = false;
        for (ProxyState state : states) {
            ipv6 |= state.family() == IpFamily.IPv6;
            nodeAddresses.addAll(state.node().addresses());
            Map<Integer, Entry> family = new HashMap<>();
            for (ResolvedService svc : state.services().values()) {
                int port = svc.port().healthCheckNodePort();
                if (port > 0 && svc.port().usesExternalLocal()) {
                    Entry previous = family.get(port);
                    int local = svc.localEndpoints().size() + (previous == null ? 0 : previous.localEndpoints());
                    family.put(port, new Entry(svc.name().namespace(), svc.name().name(), local));
                }
            }
            family.forEach((port, entry) -> wanted.merge(port, entry,
                    (a, b) -> a.localEndpoints() >= b.localEndpoints() ? a : b));
        }
        entries = Map.copyOf(wanted);
        List<String> distinctAddresses = nodeAddresses.stream().distinct().toList();
        List<String> hosts = hosts(nodePortAddresses, distinctAddresses, ipv6);
        if (hosts.isEmpty() && !wanted.isEmpty() && !hosts.equals(warnedHosts)) {
            LOG.warn("no node address in nodePortAddresses {} (node addresses: {}): health check node ports {} listen nowhere",
                    nodePortAddresses, distinctAddresses, wanted.keySet());
        }
        warnedHosts = hosts;
        Set<Listen> listens = new HashSet<>();
        for (Integer port : wanted.keySet()) {
            hosts.forEach(h -> listens.add(new Listen(h, port)));
        }
        servers.entrySet().removeIf(e -> {
            if (!listens.contains(e.getKey())) {
                e.getValue().close();
                return true;
            }
            return false;
        });
        for (Listen listen : listens) {
            int port = listen.port();
            if (!servers.containsKey(listen)) {
                servers.put(listen, null);
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
                            .end(body(entry, healthy));
                }).listen(port, listen.host()).onComplete(ar -> {
                    if (ar.succeeded() && servers.containsKey(listen)) {
                        servers.put(listen, ar.result());
                    } else if (ar.succeeded()) {
                        ar.result().close();
                    } else {
                        servers.remove(listen);
                        LOG.warn("health check node port {} cannot listen on {}: {}", port, listen.host(), ar.cause().getMessage());
                    }
                });
            }
        }
    }

    /** What the health check node port {@code port} answers from now on (null: 503, no such Service). */
    Entry entry(int port) {
        return entries.get(port);
    }

    /** Upstream's body: the Service, its local endpoint count and whether the proxy is healthy. */
    static String body(Entry entry, boolean healthy) {
        return new JsonObject()
                .put("service", new JsonObject().put("namespace", entry.namespace()).put("name", entry.name()))
                .put("localEndpoints", entry.localEndpoints()).put("serviceProxyHealthy", healthy).encode();
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
