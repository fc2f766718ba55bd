package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointHints;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.ForNode;
import io.fabric8.kubernetes.api.model.discovery.v1.ForZone;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.kubeferry.proxy.state.ObjectValidation.quote;

/**
 * Reads one discovery.k8s.io/v1 EndpointSlice into endpoints per Service port. Conditions default as
 * upstream: ready absent means ready, serving absent means "same as ready", terminating absent means false.
 * Validated as the API server validates slices: a bad name, a missing service-name label or an address
 * type other than IPv4 or IPv6 skips the slice (FQDN slices are not proxied, as upstream); a bad port or endpoint
 * address (or an address of the other family than the slice's addressType) drops that port or endpoint. IPv6
 * addresses are carried in their canonical form, the one the kernel tools print.
 */
public final class EndpointSliceConverter {

    public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
    public static final String TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";
    /** Bad endpoint addresses named in one problem at most; the rest are counted. */
    private static final int NAMED_ADDRESSES = 5;

    /** A slice's port: name and protocol, as Service ports are matched. */
    public record PortKey(String name, Protocol protocol) {
    }

    /**
     * @param serviceKey  {@code namespace/name} of the owning Service ({@code namespace/} when the label is absent)
     * @param family      the slice's addressType: every endpoint in it is of this family (null when skipped)
     * @param endpoints   endpoints per port
     * @param triggerTime the controller's last-change-trigger-time, or null
     * @param problems    what was invalid: a whole problem means the slice is ignored
     */
    public record Slice(String serviceKey, IpFamily family, Map<PortKey, List<Endpoint>> endpoints, Instant triggerTime,
            List<ObjectProblem> problems) {

        public Slice {
            endpoints = Map.copyOf(endpoints);
            problems = List.copyOf(problems);
        }

        /** Why the whole slice is ignored, or null when it is used. */
        public String skipped() {
            return problems.stream().filter(ObjectProblem::whole).map(ObjectProblem::message).findFirst().orElse(null);
        }

        /** The Service's name when the label names a valid one (events go to it), else null. */
        public String serviceName() {
            int slash = serviceKey.indexOf('/');
            String name = serviceKey.substring(slash + 1);
            return ObjectValidation.dns1035Label(name).isEmpty() ? name : null;
        }
    }

    private final String nodeName;

    public EndpointSliceConverter(String nodeName) {
        this.nodeName = nodeName;
    }

    /** The Service a slice belongs to, as {@code namespace/name} (name "" when unlabelled). */
    public static String serviceKey(EndpointSlice slice) {
        ObjectMeta meta = slice.getMetadata();
        String service = meta == null || meta.getLabels() == null ? null : meta.getLabels().get(SERVICE_NAME_LABEL);
        return ServiceConverter.namespaceOf(meta) + "/" + (service == null ? "" : service);
    }

    public Slice convert(EndpointSlice slice) {
        ObjectMeta meta = slice.getMetadata();
        String key = serviceKey(slice);
        String namespace = ServiceConverter.namespaceOf(meta);
        Optional<String> badNamespace = ObjectValidation.dns1123Label(namespace);
        if (badNamespace.isPresent()) {
            return skip(key, "invalid-name", "metadata.namespace " + quote(namespace) + " " + badNamespace.get());
        }
        String sliceName = meta == null ? null : meta.getName();
        Optional<String> badName = ObjectValidation.dns1123Subdomain(sliceName);
        if (badName.isPresent()) {
            return skip(key, "invalid-name", "metadata.name " + quote(sliceName) + " " + badName.get());
        }
        String service = meta.getLabels() == null ? null : meta.getLabels().get(SERVICE_NAME_LABEL);
        if (service == null || service.isEmpty()) {
            return skip(key, "missing-service-name-label", "no " + SERVICE_NAME_LABEL + " label says which Service the slice belongs to");
        }
        Optional<String> badService = ObjectValidation.dns1035Label(service);
        if (badService.isPresent()) {
            return skip(key, "invalid-service-name-label", "label " + SERVICE_NAME_LABEL + " " + quote(service) + " " + badService.get());
        }
        String addressType = slice.getAddressType();
        if ("FQDN".equals(addressType)) {
            return skip(key, "fqdn-slice", "addressType FQDN: only IP endpoints are proxied (upstream kube-proxy ignores FQDN slices too)");
        }
        IpFamily family = IpFamily.ofApiName(addressType);
        if (family == null) {
            return skip(key, "invalid-address-type", "addressType " + quote(addressType) + " must be IPv4, IPv6 or FQDN");
        }
        Instant trigger = null;
        Map<String, String> annotations = meta.getAnnotations();
        if (annotations != null && annotations.get(TRIGGER_TIME) != null) {
            try {
                trigger = Instant.parse(annotations.get(TRIGGER_TIME));
            } catch (RuntimeException e) {
                trigger = null; // A malformed annotation only loses a latency sample.
            }
        }
        List<ObjectProblem> problems = new ArrayList<>();
        List<Endpoint> template = endpoints(slice, family, problems);
        Map<PortKey, List<Endpoint>> result = new HashMap<>();
        Set<String> names = new HashSet<>();
        List<EndpointPort> ports = slice.getPorts() == null ? List.of() : slice.getPorts();
        for (int i = 0; i < ports.size(); i++) {
            EndpointPort port = ports.get(i);
            String field = "ports[" + i + "]";
            if (port == null) {
                problems.add(ObjectProblem.drop("invalid-port", field + " dropped: empty"));
                continue;
            }
            String name = port.getName() == null ? "" : port.getName();
            if (!name.isEmpty()) {
                Optional<String> bad = ObjectValidation.dns1123Label(name);
                if (bad.isPresent()) {
                    problems.add(ObjectProblem.drop("invalid-port-name", field + ".name " + quote(name) + " dropped: " + bad.get()));
                    continue;
                }
            }
            if (!names.add(name)) {
                problems.add(ObjectProblem.drop("duplicate-port-name",
                        field + ".name " + quote(name) + " dropped: an earlier port has the same name"));
                continue;
            }
            Optional<Protocol> protocol = ObjectValidation.protocol(port.getProtocol());
            if (protocol.isEmpty()) {
                problems.add(ObjectProblem.drop("invalid-protocol",
                        field + ".protocol " + quote(port.getProtocol()) + " dropped: must be TCP, UDP or SCTP"));
                continue;
            }
            Optional<String> badPort = ObjectValidation.portNumber(port.getPort());
            if (badPort.isPresent()) {
                // Upstream kube-proxy skips a port without a number too ("all ports" is for other consumers).
                problems.add(ObjectProblem.drop("invalid-port", field + ".port " + port.getPort() + " dropped: " + badPort.get()));
                continue;
            }
            List<Endpoint> endpoints = new ArrayList<>(template.size());
            for (Endpoint ep : template) {
                endpoints.add(new Endpoint(ep.ip(), port.getPort(), ep.ready(), ep.serving(), ep.terminating(), ep.nodeName(),
                        ep.zone(), ep.zoneHints(), ep.nodeHints(), ep.local()));
            }
            result.put(new PortKey(name, protocol.get()), endpoints);
        }
        return new Slice(key, family, result, trigger, problems);
    }

    /**
     * The slice's usable endpoints (port 0, filled in per port); bad addresses are summed up in one problem per
     * reason.
     */
    private List<Endpoint> endpoints(EndpointSlice slice, IpFamily family, List<ObjectProblem> problems) {
        List<Endpoint> endpoints = new ArrayList<>();
        Map<String, DroppedAddresses> dropped = new LinkedHashMap<>();
        List<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint> list = slice.getEndpoints() == null ? List.of() : slice.getEndpoints();
        for (int i = 0; i < list.size(); i++) {
            io.fabric8.kubernetes.api.model.discovery.v1.Endpoint ep = list.get(i);
            // Upstream uses the first address only: all addresses of one endpoint are the same pod.
            String address = ep == null || ep.getAddresses() == null || ep.getAddresses().isEmpty() ? null : ep.getAddresses().get(0);
            String what = "endpoints[" + i + "]" + (address == null ? "" : " " + quote(address));
            IpFamily other = family == IpFamily.IPv4 ? IpFamily.IPv6 : IpFamily.IPv4;
            if (address != null && (other == IpFamily.IPv4 ? ObjectValidation.isIPv4(address) : ObjectValidation.isIPv6(address))) {
                dropped.computeIfAbsent("address-family-mismatch", k -> new DroppedAddresses("is an " + other.apiName()
                        + " address in a slice of addressType " + family.apiName())).add(what);
                continue;
            }
            Optional<String> reason = address == null
                    ? Optional.of("has no address")
                    : family == IpFamily.IPv4 ? ObjectValidation.nonSpecialIPv4(address) : ObjectValidation.nonSpecialIPv6(address);
            if (reason.isPresent()) {
                dropped.computeIfAbsent("invalid-endpoint-address", k -> new DroppedAddresses(reason.get())).add(what);
                continue;
            }
            address = Cidr.canonical(address);
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
                    if (z != null && z.getName() != null) {
                        zoneHints.add(z.getName());
                    }
                }
                for (ForNode n : hints.getForNodes() == null ? List.<ForNode>of() : hints.getForNodes()) {
                    if (n != null && n.getName() != null) {
                        nodeHints.add(n.getName());
                    }
                }
            }
            endpoints.add(new Endpoint(address, 0, ready, serving, terminating, node,
                    ep.getZone(), zoneHints, nodeHints, !node.isEmpty() && node.equals(nodeName)));
        }
        dropped.forEach(
                (reason, d) -> problems.add(ObjectProblem.drop(reason, d.count + " endpoint(s) dropped: " + String.join(", ", d.named)
                        + (d.count > d.named.size() ? " and " + (d.count - d.named.size()) + " more" : "") + ": " + d.firstReason)));
        return endpoints;
    }

    /** The endpoints dropped for one reason: the first few named, the rest counted, the first one's words kept. */
    private static final class DroppedAddresses {

        private final String firstReason;
        private final List<String> named = new ArrayList<>();
        private int count;

        DroppedAddresses(String firstReason) {
            this.firstReason = firstReason;
        }

        void add(String what) {
            if (named.size() < NAMED_ADDRESSES) {
                named.add(what);
            }
            count++;
        }
    }

    private static Slice skip(String key, String reason, String message) {
        return new Slice(key, null, Map.of(), null, List.of(ObjectProblem.skip(reason, message)));
    }
}
