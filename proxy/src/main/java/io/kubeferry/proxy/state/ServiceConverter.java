package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import static io.kubeferry.proxy.state.ObjectValidation.dns1035Label;
import static io.kubeferry.proxy.state.ObjectValidation.dns1123Label;
import static io.kubeferry.proxy.state.ObjectValidation.isIP;
import static io.kubeferry.proxy.state.ObjectValidation.optionalPortNumber;
import static io.kubeferry.proxy.state.ObjectValidation.portNumber;
import static io.kubeferry.proxy.state.ObjectValidation.quote;

/**
 * Turns a Kubernetes Service into the ports kube-ferry serves, or says why it serves none. Filtering
 * follows upstream kube-proxy: ExternalName, headless and other proxies' Services are not proxied (not an
 * error). Everything else is validated as the API server validates it (see ObjectValidation), because a
 * value that reaches a rule unchecked could break the whole program: a bad whole-object field (name,
 * ClusterIP, session affinity) skips the Service, a bad part (one port, one external IP) drops that part;
 * each with a reason. Nothing here throws. A Service is converted once per IP family it has a ClusterIP of, as
 * upstream's per-family ServiceChangeTracker (serviceToServiceMap, newBaseServiceInfo) does.
 */
public final class ServiceConverter {

    public static final String SERVICE_PROXY_NAME = "service.kubernetes.io/service-proxy-name";
    public static final String HEADLESS = "service.kubernetes.io/headless";
    public static final String OPTION_PREFIX = "kube-ferry.io/";
    static final int DEFAULT_AFFINITY_SECONDS = 10800;
    private static final int OPTION_VALUE_MAX = 253;
    private static final Set<String> TYPES = Set.of("ClusterIP", "NodePort", "LoadBalancer");

    private final String serviceProxyName;

    /** @param serviceProxyName the name this proxy answers to ("" = only Services without the label) */
    public ServiceConverter(String serviceProxyName) {
        this.serviceProxyName = serviceProxyName == null ? "" : serviceProxyName;
    }

    /**
     * @param byFamily the ports to serve per IP family: a family appears when the Service has a ClusterIP of it, its
     *                 ports carrying that ClusterIP and only that family's external IPs, load-balancer IPs and
     *                 source ranges (empty when not served)
     * @param ignored  why the Service is not for this proxy (headless, ExternalName, another proxy), or null
     * @param problems what was invalid: a {@linkplain ObjectProblem#whole() whole} problem skips the
     *                 Service, the others each dropped one part
     */
    public record Result(Map<IpFamily, List<ServicePort>> byFamily, String ignored, List<ObjectProblem> problems) {

        public Result {
            EnumMap<IpFamily, List<ServicePort>> copy = new EnumMap<>(IpFamily.class);
            byFamily.forEach((family, ports) -> {
                if (!ports.isEmpty()) {
                    copy.put(family, List.copyOf(ports));
                }
            });
            byFamily = Collections.unmodifiableMap(copy);
            problems = List.copyOf(problems);
        }

        /** The ports of {@code family} (empty when the Service has no ClusterIP of it). */
        public List<ServicePort> ports(IpFamily family) {
            return byFamily.getOrDefault(family, List.of());
        }

        /** Every family's ports, IPv4 first (empty when not served). */
        public List<ServicePort> ports() {
            return byFamily.values().stream().flatMap(List::stream).toList();
        }

        static Result ignore(String reason) {
            return new Result(Map.of(), reason, List.of());
        }

        static Result skip(String reason, String message) {
            return new Result(Map.of(), null, List.of(ObjectProblem.skip(reason, message)));
        }

        /** Why the whole Service is not served (ignored or invalid), or null when it is served. */
        public String skipped() {
            if (ignored != null) {
                return ignored;
            }
            return problems.stream().filter(ObjectProblem::whole).map(ObjectProblem::message).findFirst().orElse(null);
        }

        /** The parts dropped from a Service that is otherwise served. */
        public List<ObjectProblem> warnings() {
            return problems.stream().filter(p -> !p.whole()).toList();
        }
    }

    /** True when the Service's labels say it is for this proxy (the informer filters too; the mock API may not). */
    public boolean forThisProxy(Map<String, String> labels) {
        if (labels == null) {
            return true;
        }
        if (labels.containsKey(HEADLESS)) {
            return false;
        }
        String name = labels.get(SERVICE_PROXY_NAME);
        return name == null || name.equals(serviceProxyName);
    }

    /** The namespace as the API server would store it: objects from files without one land in "default". */
    public static String namespaceOf(ObjectMeta meta) {
        return meta == null || meta.getNamespace() == null || meta.getNamespace().isEmpty() ? "default" : meta.getNamespace();
    }

    public Result convert(Service service) {
        ObjectMeta meta = service.getMetadata();
        if (meta != null && !forThisProxy(meta.getLabels())) {
            return Result.ignore("labelled for another service proxy or headless");
        }
        String namespace = namespaceOf(meta);
        String name = meta == null ? null : meta.getName();
        Optional<String> badNamespace = dns1123Label(namespace);
        if (badNamespace.isPresent()) {
            return Result.skip("invalid-name", "metadata.namespace " + quote(namespace) + " " + badNamespace.get());
        }
        Optional<String> badName = dns1035Label(name);
        if (badName.isPresent()) {
            return Result.skip("invalid-name", "metadata.name " + quote(name) + " " + badName.get());
        }
        ServiceSpec spec = service.getSpec();
        if (spec == null) {
            return Result.skip("missing-spec", "the Service has no spec");
        }
        if ("ExternalName".equals(spec.getType())) {
            return Result.ignore("type ExternalName is served by DNS, not proxied");
        }
        if (spec.getType() != null && !spec.getType().isEmpty() && !TYPES.contains(spec.getType())) {
            return Result.skip("invalid-service-type",
                    "spec.type " + quote(spec.getType()) + " must be ClusterIP, NodePort, LoadBalancer or ExternalName");
        }
        String clusterIP = spec.getClusterIP();
        if (clusterIP == null || clusterIP.isEmpty() || "None".equals(clusterIP)) {
            return Result.ignore("headless (no cluster IP)");
        }
        List<String> clusterIPs = new ArrayList<>(nonNull(spec.getClusterIPs()));
        if (clusterIPs.isEmpty()) {
            clusterIPs.add(clusterIP);
        } else if (!clusterIPs.get(0).equals(clusterIP)) {
            return Result.skip("invalid-cluster-ip",
                    "spec.clusterIPs[0] " + quote(clusterIPs.get(0)) + " must equal spec.clusterIP " + quote(clusterIP));
        }
        // The family is the address's own (upstream's GetClusterIPByFamily reads it off spec.ipFamilies, which the
        // API server keeps in step): a Service is programmed in each family it has a ClusterIP of.
        Map<IpFamily, String> clusterIPByFamily = new EnumMap<>(IpFamily.class);
        for (int i = 0; i < clusterIPs.size(); i++) {
            String ip = clusterIPs.get(i);
            String field = "spec.clusterIPs[" + i + "] " + quote(ip);
            if (!isIP(ip)) {
                return Result.skip("invalid-cluster-ip", field + " is not a valid IP address");
            }
            if (ObjectValidation.isIPv4Mapped(ip)) {
                return Result.skip("invalid-cluster-ip", field + " must not be an IPv4-mapped IPv6 address");
            }
            IpFamily family = IpFamily.of(ip);
            if (clusterIPByFamily.putIfAbsent(family, Cidr.canonical(ip)) != null) {
                return Result.skip("invalid-cluster-ip", field + " is a second " + family.apiName()
                        + " address: a Service has at most one ClusterIP per family");
            }
        }
        Optional<String> badFamilies = ipFamiliesMismatch(nonNull(spec.getIpFamilies()), clusterIPs);
        if (badFamilies.isPresent()) {
            return Result.skip("invalid-ip-families", badFamilies.get());
        }
        int sticky = 0;
        if ("ClientIP".equals(spec.getSessionAffinity())) {
            sticky = DEFAULT_AFFINITY_SECONDS;
            if (spec.getSessionAffinityConfig() != null && spec.getSessionAffinityConfig().getClientIP() != null
                    && spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds() != null) {
                sticky = spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
                if (sticky < 1 || sticky > ObjectValidation.MAX_AFFINITY_SECONDS) {
                    return Result.skip("invalid-session-affinity", "spec.sessionAffinityConfig.clientIP.timeoutSeconds " + sticky
                            + " must be between 1 and " + ObjectValidation.MAX_AFFINITY_SECONDS);
                }
            }
        } else if (spec.getSessionAffinity() != null && !spec.getSessionAffinity().isEmpty() && !"None".equals(spec.getSessionAffinity())) {
            return Result.skip("invalid-session-affinity",
                    "spec.sessionAffinity " + quote(spec.getSessionAffinity()) + " must be None or ClientIP");
        }
        Optional<String> badHealthPort = optionalPortNumber(spec.getHealthCheckNodePort());
        if (badHealthPort.isPresent()) {
            return Result.skip("invalid-port", "spec.healthCheckNodePort " + spec.getHealthCheckNodePort() + " " + badHealthPort.get());
        }
        List<io.fabric8.kubernetes.api.model.ServicePort> specPorts = nonNull(spec.getPorts());
        if (specPorts.isEmpty()) {
            return Result.skip("no-ports", "spec.ports is empty");
        }
        List<ObjectProblem> problems = new ArrayList<>();

        // Each address goes to its own family's ports (upstream's MapIPsByIPFamily, MapCIDRsByIPFamily): one of a
        // family the Service has no ClusterIP of is simply not programmed; only garbage is a problem.
        Map<IpFamily, List<String>> externalIPs = byFamily();
        List<String> specExternal = nonNull(spec.getExternalIPs());
        for (int i = 0; i < specExternal.size(); i++) {
            String ip = specExternal.get(i);
            Optional<String> bad = ObjectValidation.nonSpecialIP(ip);
            if (bad.isPresent()) {
                problems.add(
                        ObjectProblem.drop("invalid-external-ip", "spec.externalIPs[" + i + "] " + quote(ip) + " dropped: " + bad.get()));
            } else {
                externalIPs.get(IpFamily.of(ip)).add(Cidr.canonical(ip));
            }
        }
        Map<IpFamily, List<String>> lbIPs = byFamily();
        if (service.getStatus() != null && service.getStatus().getLoadBalancer() != null) {
            List<LoadBalancerIngress> ingresses = nonNull(service.getStatus().getLoadBalancer().getIngress());
            for (int i = 0; i < ingresses.size(); i++) {
                LoadBalancerIngress ingress = ingresses.get(i);
                String ip = ingress == null ? null : ingress.getIp();
                // ipMode Proxy: the load balancer proxies to the node, so the IP must not be captured here.
                // An ingress with only a hostname is a load balancer kube-proxy cannot capture either.
                if (ip == null || ip.isEmpty() || "Proxy".equals(ingress.getIpMode())) {
                    continue;
                }
                if (isIP(ip) && !ObjectValidation.isIPv4Mapped(ip)) {
                    lbIPs.get(IpFamily.of(ip)).add(Cidr.canonical(ip));
                } else {
                    problems.add(ObjectProblem.drop("invalid-load-balancer-ip",
                            "status.loadBalancer.ingress[" + i + "].ip " + quote(ip) + " dropped: must be a valid IP address"));
                }
            }
        }
        Map<IpFamily, List<String>> sourceRanges = byFamily();
        List<String> specRanges = nonNull(spec.getLoadBalancerSourceRanges());
        for (int i = 0; i < specRanges.size(); i++) {
            // Upstream trims: the API server's validation lets whitespace padding through.
            String range = specRanges.get(i) == null ? null : specRanges.get(i).strip();
            if (ObjectValidation.isCidr(range) && !ObjectValidation.isIPv4Mapped(range.substring(0, range.indexOf('/')))) {
                Cidr cidr = Cidr.parse(range);
                sourceRanges.get(cidr.family()).add(cidr.toString());
            } else {
                problems.add(
                        ObjectProblem.drop("invalid-source-range", "spec.loadBalancerSourceRanges[" + i + "] " + quote(specRanges.get(i))
                                + " dropped: must be a CIDR such as 198.18.0.0/16 or 2001:db8::/64"));
            }
        }
        for (List<String> ranges : sourceRanges.values()) {
            // As upstream: a /0 means "allow any", the same as no ranges. A family left without ranges (the
            // Service names only the other family's) is open in that family, as upstream's per-family proxier is.
            if (ranges.stream().anyMatch(r -> r.endsWith("/0"))) {
                ranges.clear();
            }
        }
        boolean externalLocal = "Local".equals(spec.getExternalTrafficPolicy());
        boolean internalLocal = "Local".equals(spec.getInternalTrafficPolicy());
        int healthCheckNodePort = spec.getHealthCheckNodePort() == null ? 0 : spec.getHealthCheckNodePort();
        Map<String, String> options = new TreeMap<>();
        if (meta.getAnnotations() != null) {
            // Sorted, so the problems come in a stable order.
            new TreeMap<>(meta.getAnnotations()).forEach((k, v) -> {
                if (k == null || v == null || !k.startsWith(OPTION_PREFIX)) {
                    return;
                }
                // Option values end up in messages, Events and tool arguments: one short printable line only.
                if (v.length() > OPTION_VALUE_MAX || !v.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
                    problems.add(ObjectProblem.drop("invalid-annotation", "annotation " + k + " " + quote(v)
                            + " dropped: must be printable ASCII of at most " + OPTION_VALUE_MAX + " characters"));
                } else {
                    options.put(k, v);
                }
            });
        }

        Map<IpFamily, List<ServicePort>> ports = new EnumMap<>(IpFamily.class);
        clusterIPByFamily.keySet().forEach(family -> ports.put(family, new ArrayList<>()));
        Set<String> portNames = new HashSet<>();
        boolean usable = false;
        for (int i = 0; i < specPorts.size(); i++) {
            io.fabric8.kubernetes.api.model.ServicePort p = specPorts.get(i);
            if (p == null) {
                problems.add(ObjectProblem.drop("invalid-port", "spec.ports[" + i + "] dropped: empty"));
                continue;
            }
            String portName = p.getName() == null ? "" : p.getName();
            String field = "spec.ports[" + i + "]";
            if (portName.isEmpty() && specPorts.size() > 1) {
                problems.add(ObjectProblem.drop("invalid-port-name",
                        field + " dropped: a name is required when a Service has more than one port"));
                continue;
            }
            if (!portName.isEmpty()) {
                Optional<String> bad = dns1123Label(portName);
                if (bad.isPresent()) {
                    problems.add(ObjectProblem.drop("invalid-port-name", field + ".name " + quote(portName) + " dropped: " + bad.get()));
                    continue;
                }
            }
            if (!portNames.add(portName)) {
                problems.add(ObjectProblem.drop("duplicate-port-name",
                        field + ".name " + quote(portName) + " dropped: an earlier port has the same name"));
                continue;
            }
            Optional<Protocol> protocol = ObjectValidation.protocol(p.getProtocol());
            if (protocol.isEmpty()) {
                problems.add(ObjectProblem.drop("invalid-protocol",
                        field + ".protocol " + quote(p.getProtocol()) + " dropped: must be TCP, UDP or SCTP"));
                continue;
            }
            Optional<String> badPort = portNumber(p.getPort());
            if (badPort.isPresent()) {
                problems.add(ObjectProblem.drop("invalid-port", field + ".port " + p.getPort() + " dropped: " + badPort.get()));
                continue;
            }
            Optional<String> badNodePort = optionalPortNumber(p.getNodePort());
            if (badNodePort.isPresent()) {
                problems.add(ObjectProblem.drop("invalid-port", field + ".nodePort " + p.getNodePort() + " dropped: " + badNodePort.get()));
                continue;
            }
            int nodePort = p.getNodePort() == null ? 0 : p.getNodePort();
            ServicePortName portKey = new ServicePortName(namespace, name, portName, protocol.get());
            for (Map.Entry<IpFamily, String> entry : clusterIPByFamily.entrySet()) {
                IpFamily family = entry.getKey();
                ports.get(family)
                        .add(new ServicePort(portKey, entry.getValue(), p.getPort(), nodePort, externalIPs.get(family), lbIPs.get(family),
                                sourceRanges.get(family), externalLocal, internalLocal, healthCheckNodePort, sticky, options));
            }
            usable = true;
        }
        if (!usable) {
            problems.add(0, ObjectProblem.skip("no-usable-ports", "no port is usable (the dropped ports are reported one by one)"));
        }
        return new Result(ports, null, problems);
    }

    /**
     * Why spec.ipFamilies disagrees with spec.clusterIPs, or empty: each listed family must be a family's name and,
     * where a ClusterIP stands at the same index, that address's family; every ClusterIP needs its entry (an empty
     * list is allowed: objects from before dual-stack, and files, have none). Entries past the ClusterIPs name
     * families the Service has no address of yet, as upstream tolerates.
     */
    private static Optional<String> ipFamiliesMismatch(List<String> families, List<String> clusterIPs) {
        for (int i = 0; i < families.size(); i++) {
            IpFamily family = IpFamily.ofApiName(families.get(i));
            String field = "spec.ipFamilies[" + i + "] " + quote(families.get(i));
            if (family == null) {
                return Optional.of(field + " must be IPv4 or IPv6");
            }
            if (i < clusterIPs.size() && IpFamily.of(clusterIPs.get(i)) != family) {
                return Optional.of(field + " does not match spec.clusterIPs[" + i + "] " + quote(clusterIPs.get(i)) + ", an "
                        + IpFamily.of(clusterIPs.get(i)).apiName() + " address");
            }
        }
        if (!families.isEmpty() && families.size() < clusterIPs.size()) {
            return Optional.of("spec.clusterIPs[" + families.size() + "] " + quote(clusterIPs.get(families.size()))
                    + " has no spec.ipFamilies entry");
        }
        return Optional.empty();
    }

    /** An empty list per family. */
    private static Map<IpFamily, List<String>> byFamily() {
        Map<IpFamily, List<String>> out = new EnumMap<>(IpFamily.class);
        for (IpFamily family : IpFamily.values()) {
            out.put(family, new ArrayList<>());
        }
        return out;
    }

    private static <T> List<T> nonNull(List<T> list) {
        return list == null ? List.of() : list;
    }
}
