package io.kubeferry.ipvs;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.testing.MockApiAgent;
import io.kubeferry.proxy.testing.UpstreamMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An IPVS-mode agent against Fabric8's mock API and the fake IPVS kernel: /metrics has upstream's IPVS-mode
 * metrics (names, types, labels) and none of the iptables-only ones; /proxyMode says ipvs.
 */
@EnableKubernetesMockClient(crud = true)
class AgentMetricsIpvsTest {

    static KubernetesClient client;

    private final FakeIpvsKernel kernel = new FakeIpvsKernel();
    private MockApiAgent running;
    private Agent agent;

    @BeforeEach
    void start() throws Exception {
        running = MockApiAgent.start(client, MockApiAgent.config().withMode("ipvs"), kernel);
        agent = running.agent();
    }

    @AfterEach
    void stop() throws Exception {
        running.close();
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return MockApiAgent.get(port, path);
    }

    @Test
    void metricsAreUpstreamsIpvsModeSet() throws Exception {
        client.resource(new ServiceBuilder().withNewMetadata().withName("web").withNamespace("default").endMetadata()
                .withNewSpec().withClusterIP("198.19.0.1").addNewPort().withName("p").withPort(80)
                .withTargetPort(new IntOrString(8080)).endPort().endSpec().build()).create();
        long deadline = System.currentTimeMillis() + 15_000;
        while (agent.successfulSyncs() == 0 || agent.lastState().services().isEmpty()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out waiting for a sync; failed syncs: " + agent.failedSyncs());
            Thread.sleep(50);
        }
        int healthz = agent.httpPorts().get(0);
        int metricsPort = agent.httpPorts().get(1);
        get(healthz, "/healthz");
        get(healthz, "/livez");
        String body = get(metricsPort, "/metrics").body();
        assertEquals(List.of(), UpstreamMetrics.differences(body, "ipvs"), "differences from upstream kube-proxy's IPVS-mode metrics");
        assertTrue(!body.contains("kubeproxy_sync_full_proxy_rules_duration_seconds"),
                "upstream registers full/partial only in iptables mode");
        assertTrue(body.contains("kubeferry_ipvs_virtual_servers{ip_family=\"IPv4\"} 1.0"),
                "kube-ferry's own IPVS gauges keep their own prefix, one per family as upstream's ip_family label");
        assertEquals("ipvs", get(metricsPort, "/proxyMode").body());
    }
}
