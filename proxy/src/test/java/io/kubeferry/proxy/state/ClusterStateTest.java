package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
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
            b.addNewEndpoint().withAddresses(ip).withNodeName(ip.endsWith(".1") || ip.endsWith("::1") ? "node-a" : "node-b")
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
        EndpointSlice fqdn = slice("web", "web-fqdn", true, "web.example.com");
        fqdn.setAddressType("FQDN");
        EndpointSlice unlabelled = slice("web", "orphan", true, "198.18.0.1");
        unlabelled.getMetadata().setLabels(java.util.Map.of());
        Service headless = service("db", "None");
        EndpointSlice headlessSlice = slice("db", "db-v6", true, "fd00::2");
        headlessSlice.setAddressType("IPv6");
        headlessSlice.getMetadata().getLabels().put("service.kubernetes.io/headless", "");
        List<String> lines = warnings(() -> {
            reporting.onSlice(v6);
            reporting.onSlice(fqdn);
            reporting.onSlice(unlabelled);
            reporting.onSlice(slice("web", "web-bad", true, "198.18.0.1", "010.1.1.1"));
            reporting.onService(headless);
            reporting.onSlice(headlessSlice);
        });
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("EndpointSlice ns/web-fqdn skipped: addressType FQDN: only IP endpoints are proxied"),
                lines.get(0));
        assertTrue(lines.get(1).contains("(missing-service-name-label)"), lines.get(1));
        assertTrue(lines.get(2).contains("EndpointSlice ns/web-bad: 1 endpoint(s) dropped"), lines.get(2));
        assertEquals(List.of("ns/web Skipped", "ns/web Dropped"), events,
                "slice warnings go to the owning Service; unlabelled ones have none");
        assertEquals(0.0, skippedCount("EndpointSlice", "ipv6-only"), "an IPv6 slice is no longer skipped");
        assertEquals(1.0, skippedCount("EndpointSlice", "fqdn-slice"));
        assertEquals(0, metrics.find("kubeferry.objects.skipped").tags("kind", "Service").counters().size(), "headless is not an error");
        assertEquals(3, reporting.skipped().size());

        // The IPv6 slice's endpoint is in the IPv6 state once its Service has an IPv6 ClusterIP.
        reporting.onService(dualStack("web", "198.19.0.1", "fd00:1::1"));
        ResolvedService web = reporting.take().state(IpFamily.IPv6).services().get(port("web"));
        assertEquals(List.of("fd00::1"), ips(web));
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

    static Service dualStack(String name, String... clusterIPs) {
        Service s = service(name, clusterIPs[0]);
        s.getSpec().setClusterIPs(List.of(clusterIPs));
        s.getSpec().setIpFamilies(java.util.Arrays.stream(clusterIPs).map(ip -> IpFamily.of(ip).apiName()).toList());
        return s;
    }

    static EndpointSlice ipv6Slice(String service, String sliceName, String... ips) {
        EndpointSlice s = slice(service, sliceName, true, ips);
        s.setAddressType("IPv6");
        return s;
    }

    private static ServicePortName port(String service) {
        return new ServicePortName("ns", service, "p", Protocol.TCP);
    }

    @Test
    void everySnapshotHoldsBothFamiliesEachWithItsOwnPortsAndEndpoints() {
        StateSource.Snapshot empty = state.take();
        assertEquals(Set.of(IpFamily.IPv4, IpFamily.IPv6), empty.states().keySet(), "both families even with nothing in them");
        assertEquals(IpFamily.IPv6, empty.state(IpFamily.IPv6).family());

        state.onService(dualStack("dual", "2001:db8:1::10", "198.19.0.10")); // IPv6 first
        state.onService(service("v4", "198.19.0.11"));
        state.onService(dualStack("v6", "2001:DB8:1::11"));
        state.onSlice(slice("dual", "dual-v4", true, "198.18.0.1"));
        state.onSlice(ipv6Slice("dual", "dual-v6", "2001:db8::1", "2001:db8::2"));
        state.onSlice(ipv6Slice("v6", "v6-a", "2001:db8::3"));
        StateSource.Snapshot s = state.take();

        var v4 = s.state(IpFamily.IPv4);
        var v6 = s.state(IpFamily.IPv6);
        assertEquals(IpFamily.IPv4, v4.family());
        assertEquals(Set.of(port("dual"), port("v4")), v4.services().keySet());
        assertEquals(Set.of(port("dual"), port("v6")), v6.services().keySet());
        assertEquals("198.19.0.10", v4.services().get(port("dual")).port().clusterIP());
        assertEquals("2001:db8:1::10", v6.services().get(port("dual")).port().clusterIP());
        assertEquals("2001:db8:1::11", v6.services().get(port("v6")).port().clusterIP(), "canonical form");
        assertEquals(List.of("198.18.0.1"), ips(v4.services().get(port("dual"))));
        assertEquals(List.of("2001:db8::1", "2001:db8::2"), ips(v6.services().get(port("dual"))));
        assertTrue(v6.services().get(port("dual")).allEndpoints().get(0).local(), "nodeName node-a is this node in IPv6 too");
        assertEquals(v4.generation(), v6.generation(), "one generation per take");
        assertEquals(Set.of(port("dual"), port("v4")), s.changed(IpFamily.IPv4));
        assertEquals(Set.of(port("dual"), port("v6")), s.changed(IpFamily.IPv6));
        assertEquals(s.changed(IpFamily.IPv4), s.changed(), "the single-stack view is IPv4's");
    }

    @Test
    void changedSetsArePerFamily() {
        state.onService(dualStack("dual", "198.19.0.10", "2001:db8:1::10"));
        state.onService(dualStack("v6", "2001:db8:1::11"));
        state.onService(service("v4", "198.19.0.11"));
        state.take();

        state.onSlice(ipv6Slice("v6", "v6-a", "2001:db8::3"));
        StateSource.Snapshot endpointsOfV6 = state.take();
        assertEquals(Set.of(), endpointsOfV6.changed(IpFamily.IPv4), "an IPv6-only Service is in no IPv4 change");
        assertEquals(Set.of(port("v6")), endpointsOfV6.changed(IpFamily.IPv6));

        state.onService(service("dual", "198.19.0.10")); // the IPv6 ClusterIP removed
        StateSource.Snapshot dropped = state.take();
        assertEquals(Set.of(port("dual")), dropped.changed(IpFamily.IPv6), "it was there before: a change of IPv6");
        assertFalse(dropped.state(IpFamily.IPv6).services().containsKey(port("dual")));
        assertTrue(dropped.state(IpFamily.IPv4).services().containsKey(port("dual")));
        assertEquals(Set.of(port("dual")), dropped.changed(IpFamily.IPv4), "a Service change is a change of both families");

        state.onSlice(ipv6Slice("dual", "dual-v6", "2001:db8::7"));
        state.onService(dualStack("dual", "198.19.0.10", "2001:db8:1::10")); // and back
        state.take();
        state.onSlice(ipv6Slice("dual", "dual-v6", "2001:db8::8"));
        StateSource.Snapshot ipv6Endpoints = state.take();
        assertEquals(Set.of(port("dual")), ipv6Endpoints.changed(IpFamily.IPv6));
        assertEquals(Set.of(), ipv6Endpoints.changed(IpFamily.IPv4), "an IPv6 slice leaves the IPv4 part of the Service as it was");
        assertEquals(List.of("2001:db8::8"), ips(ipv6Endpoints.state(IpFamily.IPv6).services().get(port("dual"))));
        state.onSlice(slice("dual", "dual-v4", true, "198.18.0.8"));
        assertEquals(Set.of(), state.take().changed(IpFamily.IPv6), "and an IPv4 slice the IPv6 part");

        state.onServiceDeleted(dualStack("v6", "2001:db8:1::11"));
        StateSource.Snapshot deleted = state.take();
        assertEquals(Set.of(port("v6")), deleted.changed(IpFamily.IPv6));
        assertEquals(Set.of(), deleted.changed(IpFamily.IPv4));
        assertEquals(Set.of(port("dual"), port("v4")), deleted.state(IpFamily.IPv4).services().keySet());
        assertEquals(Set.of(port("dual")), deleted.state(IpFamily.IPv6).services().keySet());
    }

    @Test
    void eachFamilysNodeHasOnlyItsOwnAddressesInternalFirst() {
        state.onNode(new NodeBuilder().withNewMetadata().withName("node-a").addToLabels("topology.kubernetes.io/zone", "z1").endMetadata()
                .withNewStatus().addNewAddress().withType("ExternalIP").withAddress("198.19.50.1").endAddress()
                .addNewAddress().withType("ExternalIP").withAddress("2001:db8:2::99").endAddress()
                .addNewAddress().withType("InternalIP").withAddress("198.18.1.1").endAddress()
                .addNewAddress().withType("InternalIP").withAddress("2001:DB8:2:0::1").endAddress()
                .addNewAddress().withType("InternalIP").withAddress("2001:db8:2::1").endAddress()
                .addNewAddress().withType("InternalIP").withAddress("::ffff:198.18.1.1").endAddress()
                .addNewAddress().withType("Hostname").withAddress("node-a").endAddress().endStatus().build());
        StateSource.Snapshot s = state.take();
        assertEquals(List.of("198.18.1.1", "198.19.50.1"), s.state(IpFamily.IPv4).node().addresses());
        assertEquals(List.of("2001:db8:2::1", "2001:db8:2::99"), s.state(IpFamily.IPv6).node().addresses(), "canonical, each once");
        assertEquals("z1", s.state(IpFamily.IPv6).node().zone());
        assertEquals(s.state(IpFamily.IPv4).node(), state.node());
        assertEquals(s.state(IpFamily.IPv6).node(), state.node(IpFamily.IPv6));
    }

    @Test
    void aSliceThatChangesFamilyMovesToTheOtherFamily() {
        // addressType is immutable in the API; objects from files or a replaced object can still do it.
        state.onService(dualStack("dual", "198.19.0.10", "2001:db8:1::10"));
        state.onSlice(slice("dual", "s-1", true, "198.18.0.5"));
        state.take();
        state.onSlice(ipv6Slice("dual", "s-1", "2001:db8::5"));
        StateSource.Snapshot s = state.take();
        assertEquals(List.of(), ips(s.state(IpFamily.IPv4).services().get(port("dual"))));
        assertEquals(List.of("2001:db8::5"), ips(s.state(IpFamily.IPv6).services().get(port("dual"))));
        assertEquals(Set.of(port("dual")), s.changed(IpFamily.IPv4), "the family it left changed too");
        assertEquals(Set.of(port("dual")), s.changed(IpFamily.IPv6));
        state.onSliceDeleted(ipv6Slice("dual", "s-1"));
        assertEquals(List.of(), ips(state.take().state(IpFamily.IPv6).services().get(port("dual"))));
    }
}
