package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePortName;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StaticStateTest {

    private static final Path EXAMPLE = Path.of("../examples/cluster.yaml");

    @Test
    void theStateDoesNotDependOnTheObjectsOrder() throws Exception {
        List<HasMetadata> objects = ObjectFiles.read(EXAMPLE);
        StaticState.Result reference = StaticState.build(objects, "node-a", "");
        for (long seed = 1; seed <= 5; seed++) {
            List<HasMetadata> shuffled = new ArrayList<>(objects);
            Collections.shuffle(shuffled, new Random(seed));
            StaticState.Result again = StaticState.build(shuffled, "node-a", "");
            assertEquals(reference.state().services(), again.state().services());
            assertEquals(reference.state().node(), again.state().node());
        }
        assertEquals(List.of(), reference.skipped());
    }

    @Test
    void unknownKindsAndConflictingDuplicatesAreReported() throws Exception {
        List<HasMetadata> objects = new ArrayList<>(ObjectFiles.read(EXAMPLE));
        objects.addAll(ObjectFiles.read(EXAMPLE)); // the same objects again: used once, not an error
        objects.add(new ConfigMapBuilder().withNewMetadata().withName("settings").withNamespace("shop").endMetadata().build());
        var web = ClusterStateTest.service("web", "198.19.0.10");
        web.getMetadata().setNamespace("shop");
        objects.add(web); // differs from the example's shop/web
        StaticState.Result result = StaticState.build(objects, "node-a", "");
        assertEquals(List.of("ConfigMap shop/settings skipped (unknown-kind)", "Service shop/web skipped (duplicate-object)"),
                result.skipped().stream()
                        .map(s -> s.kind() + " " + s.namespace() + "/" + s.name() + " skipped (" + s.problem().reason() + ")").toList());
        assertEquals(5, result.state().services().size(), "shop/web is out; the others stay");
    }

    @Test
    void filesGiveEachFamilyItsOwnState() {
        List<HasMetadata> objects = List.of(ClusterStateTest.dualStack("web", "2001:db8:1::10", "198.19.0.10"),
                ClusterStateTest.slice("web", "web-v4", true, "198.18.0.2"), ClusterStateTest.ipv6Slice("web", "web-v6", "2001:db8::2"),
                ServiceCIDRStateTest.serviceCIDR("kubernetes", "198.19.0.0/16", "2001:db8:1::/112"),
                new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().withNewStatus().addNewAddress().withType("InternalIP")
                        .withAddress("2001:db8:2::1").endAddress().addNewAddress().withType("InternalIP").withAddress("198.18.1.1")
                        .endAddress()
                        .endStatus().build());
        StaticState.Result result = StaticState.build(objects, "node-a", "");
        assertEquals(List.of(), result.skipped());
        ServicePortName web = new ServicePortName("ns", "web", "p", Protocol.TCP);
        var v4 = result.state(IpFamily.IPv4);
        var v6 = result.state(IpFamily.IPv6);
        assertEquals(v4, result.state());
        assertEquals("198.19.0.10", v4.services().get(web).port().clusterIP());
        assertEquals("2001:db8:1::10", v6.services().get(web).port().clusterIP());
        assertEquals(List.of("[2001:db8::2]:8080"), v6.services().get(web).allEndpoints().stream().map(e -> e.hostPort()).toList());
        assertEquals(List.of("198.18.1.1"), v4.node().addresses());
        assertEquals(List.of("2001:db8:2::1"), v6.node().addresses());
        assertEquals("[2001:db8:1::/112]", v6.serviceCIDRs().toString());
        assertEquals("[198.19.0.0/16]", v4.serviceCIDRs().toString());
    }
}
