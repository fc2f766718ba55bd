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

    public static Service nodePort(String name, String clusterIP, int port, int targetPort, int nodePort, boolean externalLocal) {
        ServiceBuilder b = service(name, clusterIP, "TCP", port, targetPort);
        b.editSpec().withType("NodePort").editFirstPort().withNodePort(nodePort).endPort()
                .withExternalTrafficPolicy(externalLocal ? "Local" : "Cluster").endSpec();
        return b.build();
    }

    public static EndpointSlice slice(String service, String protocol, int port, Ep... endpoints) {
        List<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint> eps = new ArrayList<>();
        for (Ep ep : endpoints) {
            eps.add(new EndpointBuilder().withAddresses(ep.ip()).withNodeName(ep.node())
                    .withNewConditions().withReady(ep.ready()).withServing(ep.ready() || ep.terminating())
                    .withTerminating(ep.terminating()).endConditions().build());
        }
        return new EndpointSliceBuilder().withNewMetadata().withName(service + "-slice").withNamespace(NAMESPACE)
                .addToLabels("kubernetes.io/service-name", service).endMetadata()
                .withAddressType("IPv4").addNewPort().withName("p").withProtocol(protocol).withPort(port).endPort()
                .withEndpoints(eps).build();
    }
}
