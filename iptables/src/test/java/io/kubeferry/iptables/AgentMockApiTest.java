package io.kubeferry.iptables;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.MockApiAgent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Informer -> state -> sync -> dataplane wiring against Fabric8's CRUD mock API, with the fake kernel:
 * Services and EndpointSlices created, updated and deleted flow through to the applied program.
 */
@EnableKubernetesMockClient(crud = true)
class AgentMockApiTest {

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

    private static Service service(String name, String ip) {
        return new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewSpec().withClusterIP(ip).addNewPort().withName("p").withPort(80).withTargetPort(new IntOrString(8080)).endPort()
                .endSpec().build();
    }

    private static EndpointSlice slice(String service, String... ips) {
        EndpointSliceBuilder b = new EndpointSliceBuilder().withNewMetadata().withName(service + "-x").withNamespace("default")
                .addToLabels("kubernetes.io/service-name", service).endMetadata().withAddressType("IPv4")
                .addNewPort().withName("p").withPort(8080).withProtocol("TCP").endPort();
        for (String ip : ips) {
            b.addNewEndpoint().withAddresses(ip).withNodeName("node-b").endEndpoint();
        }
        return b.build();
    }

    private static String chain(String service) {
        return new ChainNames(10).of(new ServicePortName("default", service, "p", Protocol.TCP)).cluster();
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

    private long endpointsIn(String service) {
        List<String> rules = kernel.rules("nat", chain(service));
        return rules == null ? -1 : rules.stream().filter(r -> r.contains("-j KUBE-SEP-")).count();
    }

    @Test
    void createUpdateDeleteFlowThroughToTheKernel() throws Exception {
        client.resource(service("web", "198.19.0.1")).create();
        client.resource(slice("web", "198.18.0.2", "198.18.0.3")).create();
        await("web programmed with 2 endpoints", () -> endpointsIn("web") == 2);

        client.resource(slice("web", "198.18.0.3")).update();
        await("endpoint removed", () -> endpointsIn("web") == 1);

        client.resource(service("other", "198.19.0.2")).create();
        await("a Service without endpoints is rejected", () -> kernel.rules("filter", "KUBE-SERVICES") != null
                && kernel.rules("filter", "KUBE-SERVICES").stream().anyMatch(r -> r.contains("default/other:p has no endpoints")));

        client.services().inNamespace("default").withName("web").delete();
        await("web's chains removed", () -> kernel.rules("nat", chain("web")) == null);
        assertTrue(agent.failedSyncs() == 0);
        assertTrue(kernel.commands("iptables-nft-restore").size() >= 4, "one restore per sync");
    }

    @Test
    void malformedObjectsAreSkippedWithoutHurtingOthers() throws Exception {
        Service bad = service("bad", "198.19.0.9");
        bad.getSpec().getPorts().get(0).setProtocol("ICMP");
        client.resource(bad).create();
        client.resource(service("good", "198.19.0.3")).create();
        client.resource(slice("good", "198.18.0.7")).create();
        await("good programmed", () -> endpointsIn("good") == 1);
        assertNull(kernel.rules("nat", new ChainNames(10).of(new ServicePortName("default", "bad", "p", Protocol.TCP)).cluster()));
    }

    private static List<io.fabric8.kubernetes.api.model.Event> eventsAbout(String service) {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> service.equals(e.getInvolvedObject().getName())).toList();
    }

    private double skipped(String kind, String reason) {
        var counter = agent.registry().find("kubeferry.objects.skipped").tags("kind", kind, "reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void anInvalidServiceIsReportedOncePerChangeWithAMetricAndAWarningEvent() throws Exception {
        // The CRUD mock does no validation, so it stores what a real API server would refuse.
        client.resource(service("broken", "999.1.2.3")).create();
        client.resource(service("good", "198.19.0.3")).create();
        client.resource(slice("good", "198.18.0.7")).create();
        await("good programmed", () -> endpointsIn("good") == 1);
        await("a Warning Event on the broken Service", () -> eventsAbout("broken").size() == 1);
        io.fabric8.kubernetes.api.model.Event event = eventsAbout("broken").get(0);
        assertEquals("Warning", event.getType());
        assertEquals("Skipped", event.getReason());
        assertTrue(event.getMessage().contains("\"999.1.2.3\"") && event.getMessage().contains("(invalid-cluster-ip)"), event.getMessage());
        assertEquals(1.0, skipped("Service", "invalid-cluster-ip"));

        // An update that leaves the problem as it was (what a resync delivers too) is not reported again.
        Service relabelled = service("broken", "999.1.2.3");
        relabelled.getMetadata().setLabels(java.util.Map.of("touched", "yes"));
        client.resource(relabelled).update();
        client.resource(service("later", "198.19.0.4")).create(); // same informer, so delivered after the update
        await("later programmed", () -> agent.lastState().services().keySet().stream().anyMatch(n -> n.name().equals("later")));
        assertEquals(1.0, skipped("Service", "invalid-cluster-ip"), "once per change");
        assertEquals(1, eventsAbout("broken").size());

        // A different problem is a change: reported again.
        client.resource(service("broken", "198.19.0.300")).update();
        await("the new problem counted", () -> skipped("Service", "invalid-cluster-ip") == 2.0);
        await("and recorded", () -> eventsAbout("broken").size() == 2);

        HttpResponse<String> metrics = MockApiAgent.get(agent.httpPorts().get(1), "/metrics");
        assertTrue(metrics.body().contains("kubeferry_objects_skipped_total{kind=\"Service\",reason=\"invalid-cluster-ip\"} 2.0"),
                metrics.body());
        assertEquals(0, agent.failedSyncs());
    }

    @Test
    void healthAndMetricsAreServed() throws Exception {
        client.resource(service("web", "198.19.0.1")).create();
        await("web synced", () -> agent.lastState().services().size() == 1);
        List<Integer> ports = agent.httpPorts();
        HttpResponse<String> healthz = MockApiAgent.get(ports.get(0), "/healthz");
        assertEquals(200, healthz.statusCode());
        assertTrue(healthz.body().contains("\"nodeEligible\":true"));
        HttpResponse<String> metrics = MockApiAgent.get(ports.get(1), "/metrics");
        for (String name : List.of("kubeproxy_sync_proxy_rules_duration_seconds_count", "kubeproxy_sync_full_proxy_rules_duration_seconds",
                "kubeproxy_sync_proxy_rules_last_timestamp_seconds", "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
                "kubeproxy_sync_proxy_rules_service_changes_total", "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
                "kubeproxy_proxy_healthz_total")) {
            assertTrue(metrics.body().contains(name), "metrics lack " + name);
        }
        HttpResponse<String> debug = MockApiAgent.get(ports.get(1), "/debug/state");
        assertTrue(debug.body().contains("\"default/web:p\""), debug.body());
        assertTrue(debug.body().contains("\"scheduler\":{\"algorithm\":\"random\",\"flags\":[],\"why\":\"mode-default\"}"),
                "the algorithm the dataplane put in force, and why: " + debug.body());
    }
}
