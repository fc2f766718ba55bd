package io.kubeferry.proxy.cli;

import io.fabric8.kubernetes.api.model.NodeList;
import io.fabric8.kubernetes.api.model.ServiceList;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At start, the informers' first lists wait on Jackson building a deserializer for every class of the Service,
 * EndpointSlice and Node models (hundreds of classes loaded and introspected, in cold code) before the first
 * object is read. This builds them ahead, in the serialization the client is then built with, on a thread of
 * its own while the main thread checks the kernel and wires the agent (the node has two cores or more; the work is the same, it
 * only leaves the path to the first sync). Jackson's deserializer caches are thread-safe; if the lists come
 * first they simply find some deserializers built already.
 */
final class ListWarmUp {

    private static final Logger LOG = LoggerFactory.getLogger(ListWarmUp.class);
    /** One item each, so the item's whole class tree is resolved (a bean deserializer resolves its properties'). */
    private static final String SERVICES = "{\"apiVersion\":\"v1\",\"kind\":\"ServiceList\",\"items\":[{\"metadata\":{\"name\":\"w\"},"
            + "\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]}}]}";
    private static final String SLICES = "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSliceList\",\"items\":[{\"metadata\":"
            + "{\"name\":\"w\"},\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"198.18.0.1\"],\"conditions\":{\"ready\":true}}],"
            + "\"ports\":[{\"port\":8080}]}]}";
    private static final String NODES = "{\"apiVersion\":\"v1\",\"kind\":\"NodeList\",\"items\":[{\"metadata\":{\"name\":\"w\"},"
            + "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"198.18.0.1\"}]}}]}";

    private ListWarmUp() {
    }

    /** Starts the warm-up on a daemon thread and returns at once. */
    static void start(KubernetesSerialization serialization) {
        Thread thread = new Thread(() -> {
            try {
                serialization.unmarshal(SERVICES, ServiceList.class);
                serialization.unmarshal(SLICES, EndpointSliceList.class);
                serialization.unmarshal(NODES, NodeList.class);
            } catch (RuntimeException e) {
                // Only a head start: the informers build whatever is missing themselves.
                LOG.debug("warming up the model's deserializers failed: {}", e.toString());
            }
        }, "kube-ferry-warm-up");
        thread.setDaemon(true);
        thread.start();
    }
}
