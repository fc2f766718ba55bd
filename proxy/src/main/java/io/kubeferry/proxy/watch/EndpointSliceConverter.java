package io.kubeferry.proxy.watch;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointHints;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.ForNode;
import io.fabric8.kubernetes.api.model.discovery.v1.ForZone;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one discovery.k8s.io/v1 EndpointSlice into endpoints per Service port. Conditions default as
 * upstream: ready absent means ready, serving absent means "same as ready", terminating absent means false.
 */
public final class EndpointSliceConverter {

    public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
    public static final String TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";

    /** A slice's port: name and protocol, as Service ports are matched. */
    public record PortKey(String name, Protocol protocol) {
    }

    /**
     * @param serviceKey  {@code namespace/name} of the owning Service
     * @param endpoints   endpoints per port
     * @param triggerTime the controller's last-change-trigger-time, or null
     * @param skipped     why the slice is ignored, or null
     */
    public record Slice(String serviceKey, Map<PortKey, List<Endpoint>> endpoints, Instant triggerTime, String skipped) {
        public Slice {
            endpoints = Map.copyOf(endpoints);
        }
    }

    private final String nodeName;

    public EndpointSliceConverter(String nodeName) {
        this.nodeName = nodeName;
    }

    public Slice convert(EndpointSlice slice) {
        Map<String, String> labels = slice.getMetadata().getLabels() == null ? Map.of() : slice.getMetadata().getLabels();
        String service = labels.get(SERVICE_NAME_LABEL);
        String key = slice.getMetadata().getNamespace() + "/" + (service == null ? "" : service);
        if (service == null || service.isEmpty()) {
            return new Slice(key, Map.of(), null, "no " + SERVICE_NAME_LABEL + " label");
        }
        if (!"IPv4".equals(slice.getAddressType())) {
            return new Slice(key, Map.of(), null, "addressType " + slice.getAddressType() + " (kube-ferry runs single-stack IPv4)");
        }
        Instant trigger = null;
        Map<String, String> annotations = slice.getMetadata().getAnnotations();
        if (annotations != null && annotations.get(TRIGGER_TIME) != null) {
            try {
                trigger = Instant.parse(annotations.get(TRIGGER_TIME));
            } catch (RuntimeException e) {
                trigger = null; // A malformed annotation only loses a latency sample.
            }
        }
        Map<PortKey, List<Endpoint>> result = new HashMap<>();
        List<EndpointPort> ports = slice.getPorts() == null ? List.of() : slice.getPorts();
        for (EndpointPort port : ports) {
            if (port.getPort() == null || port.getPort() < 1 || port.getPort() > 65535) {
                continue;
            }
            Protocol protocol;
            try {
                protocol = Protocol.parse(port.getProtocol());
            } catch (IllegalArgumentException e) {
                continue;
            }
            List<Endpoint> endpoints = new ArrayList<>();
            for (io.fabric8.kubernetes.api.model.discovery.v1.Endpoint ep : slice.getEndpoints() == null
                    ? List.<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint>of() : slice.getEndpoints()) {
                // Upstream uses the first address only: all addresses of one endpoint are the same pod.
                if (ep.getAddresses() == null || ep.getAddresses().isEmpty() || !Cidr.isIPv4(ep.getAddresses().get(0))) {
                    continue;
                }
                EndpointConditions c = ep.getConditions();
                boolean ready = c == null || c.getReady() == null || c.getReady();
                boolean serving = c == null || c.getServing() == null ? ready : c.getServing();
                boolean terminating = c != null && c.getTerminating() != null && c.getTerminating();
                String node = ep.getNodeName() == null ? "" : ep.getNodeName();
                Set<String> zoneHints = new HashSet<>();
                Set<String> nodeHints = new HashSet<>();
                EndpointHints hints = ep.getHints();
                if (hints != null) {
                    for (ForZone z : hints.getForZones() == null ? List.<ForZone>of() : hints.getForZones()) {
                        zoneHints.add(z.getName());
                    }
                    for (ForNode n : hints.getForNodes() == null ? List.<ForNode>of() : hints.getForNodes()) {
                        nodeHints.add(n.getName());
                    }
                }
                endpoints.add(new Endpoint(ep.getAddresses().get(0), port.getPort(), ready, serving, terminating, node,
                        ep.getZone(), zoneHints, nodeHints, !node.isEmpty() && node.equals(nodeName)));
            }
            result.put(new PortKey(port.getName() == null ? "" : port.getName(), protocol), endpoints);
        }
        return new Slice(key, result, trigger, null);
    }
}
