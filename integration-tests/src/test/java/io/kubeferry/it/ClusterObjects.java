package io.kubeferry.it;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;

import java.util.ArrayList;
import java.util.List;

/** Builders for the Services and EndpointSlices the integration tests create. */
public final class ClusterObjects {

    public static final String NAMESPACE = "default";

    private ClusterObjects() {
    }

    /** A kubeconfig for an agent started as a process against a mock API server at {@code server} (http, any token). */
    public static String mockKubeconfig(String server) {
        return """
                apiVersion: v1
                kind: Config
                clusters: [{name: mock, cluster: {server: "%s"}}]
                users: [{name: agent, user: {token: test}}]
                contexts: [{name: mock, context: {cluster: mock, user: agent}}]
                current-context: mock
                """.formatted(server);
    }

    /** An endpoint: address, node it runs on, ready or not. */
    public record Ep(String ip, String node, boolean ready, boolean terminating) {

        public static Ep ready(String ip, String node) {
            return new Ep(ip, node, true, false);
        }
    }

    public static ServiceBuilder service(String name, String clusterIP, String protocol, int port, int targetPort) {
        return new ServiceBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP(clusterIP).withClusterIPs(clusterIP)
                .addNewPort().withName("p").withProtocol(protocol).withPort(port).withTargetPort(new IntOrString(targetPort)).endPort()
                .endSpec();
    }

    /**
     * A Service with one ClusterIP per family, in the order given (the first is the primary family, spec.clusterIP),
     * with spec.ipFamilies and spec.ipFamilyPolicy as the API server fills them in: SingleStack for one address,
     * RequireDualStack for two.
     */
    public static ServiceBuilder service(String name, List<String> clusterIPs, String protocol, int port, int targetPort) {
        ServiceBuilder b = service(name, clusterIPs.get(0), protocol, port, targetPort);
        b.editSpec().withClusterIPs(clusterIPs).withIpFamilies(clusterIPs.stream().map(ClusterObjects::family).toList())
                .withIpFamilyPolicy(clusterIPs.size() > 1 ? "RequireDualStack" : "SingleStack").endSpec();
        return b;
    }

    /** A NodePort Service (externalTrafficPolicy Cluster) with one ClusterIP per family, as {@link #service(String, List, String, int, int)}. */
    public static Service nodePort(String name, List<String> clusterIPs, int port, int targetPort, int nodePort) {
        ServiceBuilder b = service(name, clusterIPs, "TCP", port, targetPort);
        b.editSpec().withType("NodePort").editFirstPort().withNodePort(nodePort).endPort().withExternalTrafficPolicy("Cluster")
                .endSpec();
        return b.build();
    }

    /** The API's name of an address's family: "IPv6" when it holds a colon, else "IPv4". */
    static String family(String ip) {
        return ip.contains(":") ? "IPv6" : "IPv4";
    }

    public static Service nodePort(String name, String clusterIP, int port, int targetPort, int nodePort, boolean externalLocal) {
        ServiceBuilder b = service(name, clusterIP, "TCP", port, targetPort);
        b.editSpec().withType("NodePort").editFirstPort().withNodePort(nodePort).endPort()
                .withExternalTrafficPolicy(externalLocal ? "Local" : "Cluster").endSpec();
        return b.build();
    }

    public static EndpointSlice slice(String service, String protocol, int port, Ep... endpoints) {
        return slice(service + "-slice", service, "IPv4", protocol, port, endpoints);
    }

    /** The IPv6 EndpointSlice of {@code service} (a Service has one slice per address type, as the controller makes them). */
    public static EndpointSlice slice6(String service, String protocol, int port, Ep... endpoints) {
        return slice(service + "-slice-v6", service, "IPv6", protocol, port, endpoints);
    }

    private static EndpointSlice slice(String sliceName, String service, String addressType, String protocol, int port,
            Ep... endpoints) {
        List<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint> eps = new ArrayList<>();
        for (Ep ep : endpoints) {
            eps.add(new EndpointBuilder().withAddresses(ep.ip()).withNodeName(ep.node())
                    .withNewConditions().withReady(ep.ready()).withServing(ep.ready() || ep.terminating())
                    .withTerminating(ep.terminating()).endConditions().build());
        }
        return new EndpointSliceBuilder().withNewMetadata().withName(sliceName).withNamespace(NAMESPACE)
                .addToLabels("kubernetes.io/service-name", service).endMetadata()
                .withAddressType(addressType).addNewPort().withName("p").withProtocol(protocol).withPort(port).endPort()
                .withEndpoints(eps).build();
    }
}
