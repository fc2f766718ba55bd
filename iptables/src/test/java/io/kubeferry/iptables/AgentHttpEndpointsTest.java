package io.kubeferry.iptables;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.MockApiAgent;
import io.kubeferry.proxy.testing.UpstreamMetrics;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's HTTP endpoints path for path as kube-proxy serves them, against Fabric8's mock API in iptables
 * mode: the /metrics names, types and labels against upstream's list, /proxyMode, /configz, the metrics
 * port's /healthz, the healthz counters by code, and the no-local-endpoints gauge.
 */
@EnableKubernetesMockClient(crud = true)
class AgentHttpEndpointsTest {

    static KubernetesClient client;

    private final FakeNetfilter kernel = new FakeNetfilter();
    private MockApiAgent running;
    private Agent agent;

    @BeforeEach
    void start() throws Exception {
        running = MockApiAgent.start(client, MockApiAgent.config(), kernel);
        agent = running.agent();
    }

    @AfterEach
    void stop() throws Exception {
        running.close();
    }

    /** A Service whose only endpoint runs on another node; Local policies as asked. */
    private void localService(String name, String ip, boolean internalLocal, boolean externalLocal) {
        ServiceBuilder b = new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewSpec().withClusterIP(ip).addNewPort().withName("p").withPort(80).withTargetPort(new IntOrString(8080))
                .withNodePort(externalLocal ? 30080 : null).endPort().endSpec();
        Service svc = b.build();
        if (externalLocal) {
            svc.getSpec().setType("NodePort");
            svc.getSpec().setExternalTrafficPolicy("Local");
            svc.getSpec().setHealthCheckNodePort(0);
        }
        if (internalLocal) {
            svc.getSpec().setInternalTrafficPolicy("Local");
        }
        client.resource(svc).create();
        EndpointSlice slice = new EndpointSliceBuilder().withNewMetadata().withName(name + "-x").withNamespace("default")
                .addToLabels("kubernetes.io/service-name", name).endMetadata().withAddressType("IPv4")
                .addNewPort().withName("p").withPort(8080).withProtocol("TCP").endPort()
                .addNewEndpoint().withAddresses("198.18.0.2").withNodeName("node-b").endEndpoint().build();
        client.resource(slice).create();
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return MockApiAgent.get(port, path);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    private int healthzPort() {
        return agent.httpPorts().get(0);
    }

    private int metricsPort() {
        return agent.httpPorts().get(1);
    }

    @Test
    void metricsHaveUpstreamNamesTypesAndLabels() throws Exception {
        localService("web", "198.19.0.1", false, false);
        await("web synced", () -> agent.lastState().services().size() == 1);
        // Upstream's healthz counters have a sample only once probed, like every labelled metric.
        get(healthzPort(), "/healthz");
        get(healthzPort(), "/livez");
        HttpResponse<String> metrics = get(metricsPort(), "/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        List<String> problems = UpstreamMetrics.differences(metrics.body(), "iptables");
        assertEquals(List.of(), problems, "differences from upstream kube-proxy's metrics");
        // The gauge whose name really ends in _total is there under that name, with the rules counted.
        double natRules = UpstreamMetrics.value(metrics.body(), "kubeproxy_sync_proxy_rules_iptables_total", "table", "nat");
        assertTrue(natRules > 0, "nat rules counted: " + natRules);
        assertTrue(UpstreamMetrics.value(metrics.body(), "kubeproxy_sync_proxy_rules_iptables_last", "table", "nat") > 0);
        assertTrue(metrics.body().contains("kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"300.0\"}"),
                "network programming histogram reaches upstream's 5 min bucket");
        assertTrue(metrics.body().contains("jvm_memory_used_bytes"), "JVM metrics");
    }

    @Test
    void noLocalEndpointsGaugeCountsLocalServicesWithoutLocalEndpoints() throws Exception {
        localService("internal-local", "198.19.0.1", true, false);
        localService("external-local", "198.19.0.2", false, true);
        localService("cluster", "198.19.0.3", false, false);
        await("three synced", () -> agent.lastState().services().size() == 3 && agent.lastState().services().values().stream()
                .allMatch(s -> s.hasAnyEndpoints()));
        await("gauge recounted", () -> {
            try {
                String body = get(metricsPort(), "/metrics").body();
                return UpstreamMetrics.value(body, "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "traffic_policy", "internal") == 1
                        && UpstreamMetrics.value(body, "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "traffic_policy",
                                "external") == 1;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void healthzCountersCountByCode() throws Exception {
        await("first sync", () -> agent.successfulSyncs() > 0);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, get(healthzPort(), "/healthz").statusCode());
        }
        assertEquals(200, get(healthzPort(), "/livez").statusCode());
        String body = get(metricsPort(), "/metrics").body();
        assertEquals(3.0, UpstreamMetrics.value(body, "kubeproxy_proxy_healthz_total", "code", "200"));
        assertEquals(1.0, UpstreamMetrics.value(body, "kubeproxy_proxy_livez_total", "code", "200"));
        assertTrue(Double.isNaN(UpstreamMetrics.value(body, "kubeproxy_proxy_healthz_total", "code", "503")), "no 503 answered");
    }

    @Test
    void metricsPortServesProxyModeConfigzHealthzAndDebugState() throws Exception {
        await("first sync", () -> agent.successfulSyncs() > 0);
        HttpResponse<String> mode = get(metricsPort(), "/proxyMode");
        assertEquals(200, mode.statusCode());
        assertEquals("iptables", mode.body());
        assertEquals("text/plain; charset=utf-8", mode.headers().firstValue("Content-Type").orElse(""));

        HttpResponse<String> configz = get(metricsPort(), "/configz");
        assertEquals(200, configz.statusCode());
        assertEquals("application/json", configz.headers().firstValue("Content-Type").orElse(""));
        JsonObject config = new JsonObject(configz.body()).getJsonObject("kubeproxy.config.k8s.io");
        assertEquals("iptables", config.getString("mode"), configz.body());

        // Upstream installs the generic component healthz (a ping) on the metrics port, not the proxier's.
        HttpResponse<String> healthz = get(metricsPort(), "/healthz");
        assertEquals(200, healthz.statusCode());
        assertEquals("ok", healthz.body());
        assertEquals("ok", get(metricsPort(), "/healthz/ping").body());
        assertEquals(404, get(metricsPort(), "/livez").statusCode());
        assertEquals(404, get(metricsPort(), "/nonsense").statusCode());
        String after = get(metricsPort(), "/metrics").body();
        assertTrue(Double.isNaN(UpstreamMetrics.value(after, "kubeproxy_proxy_healthz_total", "code", "200")),
                "the metrics port's ping is not the proxier's healthz and is not counted as one");

        HttpResponse<String> debug = get(metricsPort(), "/debug/state");
        assertEquals("node-a", new JsonObject(debug.body()).getString("node"));
    }
}
