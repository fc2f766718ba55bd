package io.kubeferry.proxy.watch;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class TrimmedItemStoreTest {

    @Test
    void dropsManagedFieldsAndLastAppliedButKeepsWhatTheConvertersRead() {
        Service service = new ServiceBuilder().withNewMetadata().withNamespace("ns").withName("web").withResourceVersion("7")
                .addToLabels("app", "web")
                .withAnnotations(Map.of(TrimmedItemStore.LAST_APPLIED, "{\"big\":true}", "service.kubernetes.io/topology-mode", "Auto"))
                .withManagedFields(new ManagedFieldsEntryBuilder().withManager("kubectl").withOperation("Apply").build())
                .endMetadata().withNewSpec().withClusterIP("198.19.0.10").addNewPort().withPort(80).endPort().endSpec().build();
        TrimmedItemStore<Service> store = new TrimmedItemStore<>();

        store.put(store.getKey(service), service);

        Service stored = store.get("ns/web");
        assertSame(service, stored, "trimmed in place: the handlers and the cache share one object, no copy");
        assertNull(stored.getMetadata().getManagedFields());
        assertEquals(Map.of("service.kubernetes.io/topology-mode", "Auto"), stored.getMetadata().getAnnotations());
        assertEquals(Map.of("app", "web"), stored.getMetadata().getLabels());
        assertEquals("7", stored.getMetadata().getResourceVersion(), "the informer compares resource versions on resync");
        assertEquals("198.19.0.10", stored.getSpec().getClusterIP());
        assertEquals(80, stored.getSpec().getPorts().get(0).getPort());
    }

    @Test
    void dropsTheNodesImageListButKeepsLabelsAddressesAndTaints() {
        Node node = new NodeBuilder().withNewMetadata().withName("node-a").addToLabels("topology.kubernetes.io/zone", "z1").endMetadata()
                .withNewSpec().addNewTaint().withKey("ToBeDeletedByClusterAutoscaler").withEffect("NoSchedule").endTaint().endSpec()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress("198.18.0.1").endAddress()
                .addNewImage().withNames("registry/app:1").withSizeBytes(1L).endImage().endStatus().build();
        TrimmedItemStore<Node> store = new TrimmedItemStore<>();

        store.put(store.getKey(node), node);

        Node stored = store.get("node-a");
        assertNull(stored.getStatus().getImages());
        assertEquals("198.18.0.1", stored.getStatus().getAddresses().get(0).getAddress());
        assertEquals("z1", stored.getMetadata().getLabels().get("topology.kubernetes.io/zone"));
        assertEquals(List.of("ToBeDeletedByClusterAutoscaler"), stored.getSpec().getTaints().stream().map(t -> t.getKey()).toList());
    }
}
