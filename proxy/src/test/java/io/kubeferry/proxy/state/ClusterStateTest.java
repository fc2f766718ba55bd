package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.LogCapture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterStateTest {

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final ClusterState state = new ClusterState("node-a", "", Set.of(), metrics);

    static Service service(String name, String ip) {
        return new ServiceBuilder().withNewMetadata().withName(name).withNamespace("ns").endMetadata()
                .withNewSpec().withClusterIP(ip).addNewPort().withName("p").withPort(80).withTargetPort(new IntOrString(8080)).endPort()
                .endSpec().build();
    }

    static EndpointSlice slice(String service, String sliceName, boolean ready, String... ips) {
        EndpointSliceBuilder b = new EndpointSliceBuilder().withNewMetadata().withName(sliceName).withNamespace("ns")
                .addToLabels("kubernetes.io/service-name", service).endMetadata().withAddressType("IPv4")
                .addNewPort().withName("p").withPort(8080).withProtocol("TCP").endPort();
        for (String ip : ips) {
            b.addNewEndpoint().withAddresses(ip).withNodeName(ip.endsWith(".1") ? "node-a" : "node-b")
                    .withNewConditions().withReady(ready).endConditions().endEndpoint();
        }
        return b.build();
    }

    private static List<String> ips(ResolvedService r) {
        return r.allEndpoints().stream().map(Endpoint::ip).toList();
    }

    @Test
    void slicesOfOneServiceMergeAndDuplicatesCollapse() {
        state.onService(service("web", "198.19.0.1"));
        state.onSlice(slice("web", "web-a", false, "198.18.0.1", "198.18.0.2"));
        state.onSlice(slice("web", "web-b", true, "198.18.0.2", "198.18.0.3"));
        ResolvedService web = state.take().state().services().values().iterator().next();
        assertEquals(List.of("198.18.0.1", "198.18.0.2", "198.18.0.3"), ips(web));
        assertTrue(web.allEndpoints().get(1).ready(), "the ready copy of a duplicate wins");
        assertTrue(web.allEndpoints().get(0).local(), "nodeName node-a is this node");
    }

    @Test
    void onlyChangedServicesAreReported() {
        state.onService(service("a", "198.19.0.1"));
        state.onService(service("b", "198.19.0.2"));
        StateSource.Snapshot first = state.take();
        assertEquals(2, first.changed().size());

        state.onSlice(slice("b", "b-1", true, "198.18.0.5"));
        state.onService(service("a", "198.19.0.1")); // no real change
        StateSource.Snapshot second = state.take();
        assertEquals(Set.of(new ServicePortName("ns", "b", "p", io.kubeferry.proxy.model.Protocol.TCP)), second.changed());
        assertEquals(2, second.state().services().size());
        assertTrue(second.state().generation() > first.state().generation());

        state.onServiceDeleted(service("a", "198.19.0.1"));
        StateSource.Snapshot third = state.take();
        assertEquals(1, third.state().services().size());
        assertEquals(1, third.changed().size(), "the deleted Service's port is reported changed");
        assertEquals(0, state.take().changed().size(), "nothing pending after take()");
    }

    @Test
    void aBadServiceNeverBreaksTheOthers() {
        state.onService(service("good", "198.19.0.1"));
        state.onService(service("bad", "not-an-ip"));
        state.onSlice(new EndpointSliceBuilder().withNewMetadata().withName("orphan").withNamespace("ns").endMetadata()
                .withAddressType("IPv4").build());
        assertEquals(1, state.take().state().services().size());
    }

    @Test
    void zoneChangeRecomputesTopology() {
        state.onService(service("a", "198.19.0.1"));
        state.take();
        state.onNode(new NodeBuilder().withNewMetadata().withName("node-a").addToLabels("topology.kubernetes.io/zone", "z1").endMetadata()
                .build());
        StateSource.Snapshot s = state.take();
        assertEquals("z1", s.state().node().zone());
        assertEquals(1, s.changed().size());
    }

    @Test
    void readyOnlyAfterEveryKindSynced() {
        ClusterState gated = new ClusterState("node-a", "", Set.of("Service", "EndpointSlice"), metrics);
        assertFalse(gated.ready());
        gated.markSynced("Service");
        assertFalse(gated.ready());
        gated.markSynced("EndpointSlice");
        assertTrue(gated.ready());
    }

    @Test
    void changeMetricsUseUpstreamNames() {
        state.onService(service("a", "198.19.0.1"));
        state.onSlice(slice("a", "a-1", true, "198.18.0.5"));
        assertEquals(1.0, metrics.get("kubeproxy.sync.proxy.rules.service.changes.pending").gauge().value());
        assertEquals(1.0, metrics.get("kubeproxy.sync.proxy.rules.endpoint.changes").counter().count());
        state.take();
        assertEquals(0.0, metrics.get("kubeproxy.sync.proxy.rules.endpoint.changes.pending").gauge().value());
    }

    @Test
    void staticStateReadsTheBundledExample() throws Exception {
        Path example = Path.of("../examples/cluster.yaml");
        var objects = ObjectFiles.read(example);
        var proxyState = StaticState.of(objects, "node-a", "");
        // web, api, ingress, dns (2 ports), pending; not legacy (ExternalName), db (headless) or mesh (other proxy).
        assertEquals(6, proxyState.services().size(), proxyState.services().keySet().toString());
        assertEquals("zone-a", proxyState.node().zone());
        assertTrue(Files.exists(example));
    }

    /** WARN lines of the state's logger while {@code body} runs. */
    private static List<String> warnings(Runnable body) {
        try (LogCapture log = new LogCapture(ClusterState.class)) {
            body.run();
            return log.lines(ch.qos.logback.classic.Level.WARN);
        }
    }

    private double skippedCount(String kind, String reason) {
        var counter = metrics.find("kubeferry.objects.skipped").tags("kind", kind, "reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aSkippedObjectIsReportedOncePerChangeAndForgottenOnDelete() {
        List<String> events = new java.util.ArrayList<>();
        ClusterState reporting = new ClusterState("node-a", "", Set.of(), metrics,
                (ns, svc, reason, message) -> events.add(ns + "/" + svc + " " + reason + ": " + message));
        Service bad = service("bad", "999.1.2.3");
        List<String> first = warnings(() -> reporting.onService(bad));
        assertEquals(1, first.size(), first.toString());
        assertTrue(first.get(0).contains("Service ns/bad skipped") && first.get(0).contains("\"999.1.2.3\"")
                && first.get(0).contains("(invalid-cluster-ip)"), first.get(0));
        assertEquals(List.of(
                "ns/bad Skipped: kube-ferry does not program this Service: spec.clusterIPs[0] \"999.1.2.3\" is not a valid IP address (invalid-cluster-ip)"),
                events);
        assertEquals(1.0, skippedCount("Service", "invalid-cluster-ip"));

        List<String> resync = warnings(() -> {
            reporting.onService(bad);
            reporting.onService(service("bad", "999.1.2.3"));
        });
        assertEquals(List.of(), resync, "an unchanged object is not reported again");
        assertEquals(1, events.size());
        assertEquals(1.0, skippedCount("Service", "invalid-cluster-ip"));

        List<String> changed = warnings(() -> reporting.onService(service("bad", "998.1.2.3")));
        assertEquals(1, changed.size(), "a new reason is a change: " + changed);
        assertEquals(2.0, skippedCount("Service", "invalid-cluster-ip"));

        reporting.onServiceDeleted(bad);
        assertEquals(List.of(), reporting.skipped());
        assertEquals(1, warnings(() -> reporting.onService(service("bad", "998.1.2.3"))).size(), "forgotten on delete");
        reporting.onService(service("bad", "198.19.0.5"));
        assertEquals(List.of(), reporting.skipped(), "fixed: nothing skipped");
        assertEquals(1, reporting.take().state().services().size());
    }

    @Test
    void slicesWarnOnTheirServiceAndIgnoredServicesAreQuiet() {
        List<String> events = new java.util.ArrayList<>();
        ClusterState reporting = new ClusterState("node-a", "", Set.of(), metrics,
                (ns, svc, reason, message) -> events.add(ns + "/" + svc + " " + reason));
        EndpointSlice v6 = slice("web", "web-v6", true, "fd00::1");
        v6.setAddressType("IPv6");
        EndpointSlice unlabelled = slice("web", "orphan", true, "198.18.0.1");
        unlabelled.getMetadata().setLabels(java.util.Map.of());
        Service headless = service("db", "None");
        EndpointSlice headlessSlice = slice("db", "db-v6", true, "fd00::2");
        headlessSlice.setAddressType("IPv6");
        headlessSlice.getMetadata().getLabels().put("service.kubernetes.io/headless", "");
        List<String> lines = warnings(() -> {
            reporting.onSlice(v6);
            reporting.onSlice(unlabelled);
            reporting.onSlice(slice("web", "web-bad", true, "198.18.0.1", "010.1.1.1"));
            reporting.onService(headless);
            reporting.onSlice(headlessSlice);
        });
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("EndpointSlice ns/web-v6 skipped: addressType IPv6: kube-ferry is IPv4-only (ipv6-only)"),
                lines.get(0));
        assertTrue(lines.get(1).contains("(missing-service-name-label)"), lines.get(1));
        assertTrue(lines.get(2).contains("EndpointSlice ns/web-bad: 1 endpoint(s) dropped"), lines.get(2));
        assertEquals(List.of("ns/web Skipped", "ns/web Dropped"), events,
                "slice warnings go to the owning Service; unlabelled ones have none");
        assertEquals(1.0, skippedCount("EndpointSlice", "ipv6-only"));
        assertEquals(0, metrics.find("kubeferry.objects.skipped").tags("kind", "Service").counters().size(), "headless is not an error");
        assertEquals(3, reporting.skipped().size());
    }

    @Test
    void aRelabelledSliceMovesToItsNewService() {
        state.onService(service("a", "198.19.0.1"));
        state.onService(service("b", "198.19.0.2"));
        state.onSlice(slice("a", "s-1", true, "198.18.0.5"));
        state.take();
        state.onSlice(slice("b", "s-1", true, "198.18.0.5"));
        var services = state.take().state().services();
        assertEquals(0, services.get(new ServicePortName("ns", "a", "p", io.kubeferry.proxy.model.Protocol.TCP)).allEndpoints().size());
        assertEquals(1, services.get(new ServicePortName("ns", "b", "p", io.kubeferry.proxy.model.Protocol.TCP)).allEndpoints().size());
    }
}
