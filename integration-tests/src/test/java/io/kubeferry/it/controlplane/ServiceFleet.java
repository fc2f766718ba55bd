package io.kubeferry.it.controlplane;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.ClusterObjects;
import io.kubeferry.it.ClusterObjects.Ep;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The large clusters of the benchmarks: Services named PREFIX-0 .. PREFIX-(count-1), one TCP port 80 -> 8080,
 * each with one EndpointSlice, written through the API server by a few threads (a 1,000-Service cluster in
 * seconds). Background endpoints are not backed by pods: they only make the rule set as large as a real one.
 */
public final class ServiceFleet {

    public static final int ENDPOINTS_PER_SERVICE = 5;

    private ServiceFleet() {
    }

    /** Creates the Services and their slices; {@code endpoints} gives Service i's endpoints. */
    public static void create(KubernetesClient client, String prefix, int count, IntFunction<Ep[]> endpoints) throws Exception {
        grow(client, prefix, 0, count, endpoints);
    }

    /** Adds Services {@code from} .. {@code to - 1} to a fleet of {@code from}: a benchmark that steps through sizes. */
    public static void grow(KubernetesClient client, String prefix, int from, int to, IntFunction<Ep[]> endpoints) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> created = new ArrayList<>();
            for (int i = from; i < to; i++) {
                int n = i;
                created.add(pool.submit(() -> {
                    String name = prefix + n;
                    client.resource(
                            new ServiceBuilder().withNewMetadata().withName(name).withNamespace(ClusterObjects.NAMESPACE).endMetadata()
                                    .withNewSpec().addNewPort().withName("p").withPort(80).withTargetPort(new IntOrString(8080)).endPort()
                                    .endSpec().build())
                            .create();
                    client.resource(ClusterObjects.slice(name, "TCP", 8080, endpoints.apply(n))).create();
                    return null;
                }));
            }
            for (Future<?> f : created) {
                f.get(10, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Service i's 5 ready endpoints on node-b, each address used once across the fleet. */
    public static Ep[] background(int service) {
        Ep[] eps = new Ep[ENDPOINTS_PER_SERVICE];
        for (int j = 0; j < ENDPOINTS_PER_SERVICE; j++) {
            int k = service * ENDPOINTS_PER_SERVICE + j;
            // 198.18.2.0 onwards: outside the bed's pod and node subnets, inside the tests' 198.18.0.0/15.
            eps[j] = Ep.ready("198.18." + (2 + k / 250) + "." + (k % 250 + 1), "node-b");
        }
        return eps;
    }
}
