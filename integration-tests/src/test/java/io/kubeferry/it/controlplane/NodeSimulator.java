package io.kubeferry.it.controlplane;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Plays kubelet for one node: registers the Node, watches Pods bound to it, gives each a running workload
 * through a {@link PodRuntime} (in the real-kernel tests: a network namespace with an echo server), and
 * reports status.podIP and Ready, so the real EndpointSlice controller makes real slices.
 */
public final class NodeSimulator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NodeSimulator.class);

    /** Starts a pod's workload and returns its IP. */
    public interface PodRuntime {

        String start(Pod pod) throws Exception;
    }

    /** The node's address on the pod bridge of the real-kernel test bed. */
    private static final String NODE_IP = "198.18.0.1";

    private final KubernetesClient client;
    private final String nodeName;
    private final PodRuntime runtime;
    private final Map<String, String> started = new ConcurrentHashMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private SharedIndexInformer<Pod> informer;

    public NodeSimulator(KubernetesClient client, String nodeName, PodRuntime runtime) {
        this.client = client;
        this.nodeName = nodeName;
        this.runtime = runtime;
    }

    public NodeSimulator start() {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(nodeName)
                .addToLabels("kubernetes.io/hostname", nodeName).endMetadata().build()).createOr(r -> r.update());
        // An informer, not a bare watch: it relists after an expired watch (410 Gone) or an API server restart.
        informer = client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).inform(new ResourceEventHandler<>() {

            @Override
            public void onAdd(Pod pod) {
                worker.submit(() -> run(pod));
            }

            @Override
            public void onUpdate(Pod oldPod, Pod pod) {
                worker.submit(() -> run(pod));
            }

            @Override
            public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                // The workload keeps running, like a pod that is still shutting down; the Pod object is gone.
            }
        });
        return this;
    }

    private void run(Pod pod) {
        String key = pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
        if (pod.getMetadata().getDeletionTimestamp() != null || started.containsKey(key)) {
            return;
        }
        try {
            String ip = runtime.start(pod);
            started.put(key, ip);
            String now = Instant.now().toString();
            List<PodCondition> conditions = List.of(
                    new PodConditionBuilder().withType("Ready").withStatus("True").withLastTransitionTime(now).build(),
                    new PodConditionBuilder().withType("ContainersReady").withStatus("True").withLastTransitionTime(now).build(),
                    new PodConditionBuilder().withType("PodScheduled").withStatus("True").withLastTransitionTime(now).build());
            Pod current = client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).get();
            Pod updated = new PodBuilder(current).editOrNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP(ip)
                    .withHostIP(NODE_IP).addNewHostIP(NODE_IP)
                    .withStartTime(now).withConditions(conditions).endStatus().build();
            client.pods().resource(updated).updateStatus();
        } catch (Exception e) {
            LOG.warn("pod {} could not be started: {}", key, e.toString());
        }
    }

    public Map<String, String> podIPs() {
        return Map.copyOf(started);
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
        worker.shutdownNow();
    }
}
