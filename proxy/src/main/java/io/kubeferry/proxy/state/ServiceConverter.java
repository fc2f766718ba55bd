package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import static io.kubeferry.proxy.state.ObjectValidation.dns1035Label;
import static io.kubeferry.proxy.state.ObjectValidation.dns1123Label;
import static io.kubeferry.proxy.state.ObjectValidation.isIP;
import static io.kubeferry.proxy.state.ObjectValidation.isIPv4;
import static io.kubeferry.proxy.state.ObjectValidation.isIPv4Cidr;
import static io.kubeferry.proxy.state.ObjectValidation.isIPv6;
import static io.kubeferry.proxy.state.ObjectValidation.isIPv6Cidr;
import static io.kubeferry.proxy.state.ObjectValidation.nonSpecialIPv4;
import static io.kubeferry.proxy.state.ObjectValidation.optionalPortNumber;
import static io.kubeferry.proxy.state.ObjectValidation.portNumber;
import static io.kubeferry.proxy.state.ObjectValidation.quote;

/**
 * Turns a Kubernetes Service into the ports kube-ferry serves, or says why it serves none. Filtering
 * follows upstream kube-proxy: ExternalName, headless and other proxies' Services are not proxied (not an
 * error). Everything else is validated as the API server validates it (see ObjectValidation), because a
 * value that reaches a rule unchecked could break the whole program: a bad whole-object field (name,
 * ClusterIP, session affinity) skips the Service, a bad part (one port, one external IP) drops that part;
 * each with a reason. Nothing here throws.
 */
public final class ServiceConverter {

    public static final String SERVICE_PROXY_NAME = "service.kubernetes.io/service-proxy-name";
    public static final String HEADLESS = "service.kubernetes.io/headless";
    public static final String OPTION_PREFIX = "kube-ferry.io/";
    static final int DEFAULT_AFFINITY_SECONDS = 10800;
    static final String IPV4_ONLY = "kube-ferry is IPv4-only";
    private static final int OPTION_VALUE_MAX = 253;
    private static final Set<String> TYPES = Set.of("ClusterIP", "NodePort", "LoadBalancer");

    private final String serviceProxyName;

    /** @param serviceProxyName the name this proxy answers to ("" = only Services without the label) */
    public ServiceConverter(String serviceProxyName) {
        this.serviceProxyName = serviceProxyName == null ? "" : serviceProxyName;
    }

    /**
     * @param ports    the ports to serve (empty when not served)
     * @param ignored  why the Service is not for this proxy (headless, ExternalName, another proxy), or null
     * @param problems what was invalid: a {@linkplain ObjectProblem#whole() whole} problem skips the
     *                 Service, the others each dropped one part
     */
    public record Result(List<ServicePort> ports, String ignored, List<ObjectProblem> problems) {

        public Result {
            ports = List.copyOf(ports);
            problems = List.copyOf(problems);
        }

        static Result ignore(String reason) {
            return new Result(List.of(), reason, List.of());
        }

        static Result skip(String reason, String message) {
            return new Result(List.of(), null, List.of(ObjectProblem.skip(reason, message)));
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
        for (int i = 0; i < clusterIPs.size(); i++) {
            if (!isIP(clusterIPs.get(i))) {
                return Result.skip("invalid-cluster-ip",
                        "spec.clusterIPs[" + i + "] " + quote(clusterIPs.get(i)) + " is not a valid IP address");
            }
        }
        Optional<String> ipv4 = clusterIPs.stream().filter(ip -> isIPv4(ip)).findFirst();
        if (ipv4.isEmpty()) {
            return Result.skip("ipv6-only",
                    "spec.clusterIPs " + quote(String.join(",", clusterIPs)) + " has no IPv4 address: " + IPV4_ONLY);
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

        List<String> externalIPs = new ArrayList<>();
        List<String> specExternal = nonNull(spec.getExternalIPs());
        for (int i = 0; i < specExternal.size(); i++) {
            String ip = specExternal.get(i);
            String field = "spec.externalIPs[" + i + "] " + quote(ip);
            if (isIPv6(ip)) {
                problems.add(ObjectProblem.drop("ipv6-only", field + " dropped: " + IPV4_ONLY));
                continue;
            }
            Optional<String> bad = nonSpecialIPv4(ip);
            if (bad.isPresent()) {
                problems.add(ObjectProblem.drop("invalid-external-ip", field + " dropped: " + bad.get()));
            } else {
                externalIPs.add(ip);
            }
        }
        List<String> lbIPs = new ArrayList<>();
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
                String field = "status.loadBalancer.ingress[" + i + "].ip " + quote(ip);
                if (isIPv4(ip)) {
                    lbIPs.add(ip);
                } else if (isIPv6(ip)) {
                    problems.add(ObjectProblem.drop("ipv6-only", field + " dropped: " + IPV4_ONLY));
                } else {
                    problems.add(ObjectProblem.drop("invalid-load-balancer-ip", field + " dropped: must be a valid IP address"));
                }
            }
        }
        List<String> sourceRanges = new ArrayList<>();
        List<String> specRanges = nonNull(spec.getLoadBalancerSourceRanges());
        for (int i = 0; i < specRanges.size(); i++) {
            String range = specRanges.get(i) == null ? null : specRanges.get(i).strip();
            String field = "spec.loadBalancerSourceRanges[" + i + "] " + quote(specRanges.get(i));
            if (isIPv4Cidr(range)) {
                sourceRanges.add(Cidr.parse(range).toString());
            } else if (isIPv6Cidr(range)) {
                problems.add(ObjectProblem.drop("ipv6-only", field + " dropped: " + IPV4_ONLY));
            } else {
                problems.add(ObjectProblem.drop("invalid-source-range", field + " dropped: must be an IPv4 CIDR such as 198.18.0.0/16"));
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

        List<ServicePort> ports = new ArrayList<>();
        Set<String> portNames = new HashSet<>();
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
            ports.add(new ServicePort(new ServicePortName(namespace, name, portName, protocol.get()), ipv4.get(), p.getPort(), nodePort,
                    externalIPs, lbIPs, sourceRanges, externalLocal, internalLocal, healthCheckNodePort, sticky, options));
        }
        if (ports.isEmpty()) {
            problems.add(0, ObjectProblem.skip("no-usable-ports", "no port is usable (the dropped ports are reported one by one)"));
        }
        return new Result(ports, null, problems);
    }

    private static <T> List<T> nonNull(List<T> list) {
        return list == null ? List.of() : list;
    }
}
