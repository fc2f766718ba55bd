package io.kubeferry.proxy.watch;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns a Kubernetes Service into the ports kube-ferry serves, or says why it serves none. Filtering
 * follows upstream kube-proxy: ExternalName, headless and IPv6-only Services are not proxied, and neither
 * are Services that name another service proxy. Bad fields reject only what they touch: one bad port drops
 * that port, one bad external IP drops that IP, and nothing here throws.
 */
public final class ServiceConverter {

    public static final String SERVICE_PROXY_NAME = "service.kubernetes.io/service-proxy-name";
    public static final String HEADLESS = "service.kubernetes.io/headless";
    public static final String OPTION_PREFIX = "kube-ferry.io/";
    static final int DEFAULT_AFFINITY_SECONDS = 10800;

    private final String serviceProxyName;

    /** @param serviceProxyName the name this proxy answers to ("" = only Services without the label) */
    public ServiceConverter(String serviceProxyName) {
        this.serviceProxyName = serviceProxyName == null ? "" : serviceProxyName;
    }

    /**
     * @param ports    the ports to serve (empty when skipped)
     * @param skipped  why the whole Service is not served, or null
     * @param warnings parts that were dropped, each with its reason
     */
    public record Result(List<ServicePort> ports, String skipped, List<String> warnings) {
        public Result {
            ports = List.copyOf(ports);
            warnings = List.copyOf(warnings);
        }

        static Result skip(String reason) {
            return new Result(List.of(), reason, List.of());
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

    public Result convert(Service service) {
        ServiceSpec spec = service.getSpec();
        if (spec == null) {
            return Result.skip("no spec");
        }
        if (!forThisProxy(service.getMetadata().getLabels())) {
            return Result.skip("labelled for another service proxy or headless");
        }
        if ("ExternalName".equals(spec.getType())) {
            return Result.skip("type ExternalName is served by DNS, not proxied");
        }
        String clusterIP = spec.getClusterIP();
        if (clusterIP == null || clusterIP.isEmpty() || "None".equals(clusterIP)) {
            return Result.skip("headless (no cluster IP)");
        }
        Optional<String> ipv4 = ipv4ClusterIP(spec);
        if (ipv4.isEmpty()) {
            return Result.skip("no IPv4 cluster IP (kube-ferry runs single-stack IPv4)");
        }
        String namespace = service.getMetadata().getNamespace();
        String name = service.getMetadata().getName();
        List<String> warnings = new ArrayList<>();

        List<String> externalIPs = new ArrayList<>();
        for (String ip : nonNull(spec.getExternalIPs())) {
            if (Cidr.isIPv4(ip)) {
                externalIPs.add(ip);
            } else if (!ip.contains(":")) {
                warnings.add("externalIP \"" + ip + "\" is not a valid IPv4 address");
            }
        }
        List<String> lbIPs = new ArrayList<>();
        if (service.getStatus() != null && service.getStatus().getLoadBalancer() != null) {
            for (LoadBalancerIngress ingress : nonNull(service.getStatus().getLoadBalancer().getIngress())) {
                String ip = ingress.getIp();
                // ipMode Proxy: the load balancer proxies to the node, so the IP must not be captured here.
                if (ip == null || ip.isEmpty() || "Proxy".equals(ingress.getIpMode())) {
                    continue;
                }
                if (Cidr.isIPv4(ip)) {
                    lbIPs.add(ip);
                } else if (!ip.contains(":")) {
                    warnings.add("load balancer ingress IP \"" + ip + "\" is not a valid IPv4 address");
                }
            }
        }
        List<String> sourceRanges = new ArrayList<>();
        for (String range : nonNull(spec.getLoadBalancerSourceRanges())) {
            if (range.contains(":")) {
                continue;
            }
            try {
                sourceRanges.add(Cidr.parse(range).toString());
            } catch (IllegalArgumentException e) {
                warnings.add("loadBalancerSourceRanges: " + e.getMessage());
            }
        }
        boolean externalLocal = "Local".equals(spec.getExternalTrafficPolicy());
        boolean internalLocal = "Local".equals(spec.getInternalTrafficPolicy());
        int healthCheckNodePort = spec.getHealthCheckNodePort() == null ? 0 : spec.getHealthCheckNodePort();
        int sticky = 0;
        if ("ClientIP".equals(spec.getSessionAffinity())) {
            sticky = DEFAULT_AFFINITY_SECONDS;
            if (spec.getSessionAffinityConfig() != null && spec.getSessionAffinityConfig().getClientIP() != null
                    && spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds() != null) {
                sticky = spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
            }
        }
        Map<String, String> options = new TreeMap<>();
        if (service.getMetadata().getAnnotations() != null) {
            service.getMetadata().getAnnotations().forEach((k, v) -> {
                if (k.startsWith(OPTION_PREFIX)) {
                    options.put(k, v);
                }
            });
        }

        List<ServicePort> ports = new ArrayList<>();
        for (io.fabric8.kubernetes.api.model.ServicePort p : nonNull(spec.getPorts())) {
            String portName = p.getName() == null ? "" : p.getName();
            Protocol protocol;
            try {
                protocol = Protocol.parse(p.getProtocol());
            } catch (IllegalArgumentException e) {
                warnings.add("port \"" + portName + "\": unknown protocol \"" + p.getProtocol() + "\"");
                continue;
            }
            int port = p.getPort() == null ? 0 : p.getPort();
            int nodePort = p.getNodePort() == null ? 0 : p.getNodePort();
            if (port < 1 || port > 65535) {
                warnings.add("port \"" + portName + "\": port " + port + " is outside 1-65535");
                continue;
            }
            if (nodePort < 0 || nodePort > 65535) {
                warnings.add("port \"" + portName + "\": nodePort " + nodePort + " is outside 0-65535");
                continue;
            }
            ports.add(new ServicePort(new ServicePortName(namespace, name, portName, protocol), ipv4.get(), port, nodePort,
                    externalIPs, lbIPs, sourceRanges, externalLocal, internalLocal, healthCheckNodePort, sticky, options));
        }
        if (ports.isEmpty()) {
            return new Result(List.of(), "no usable ports", warnings);
        }
        return new Result(ports, null, warnings);
    }

    private static Optional<String> ipv4ClusterIP(ServiceSpec spec) {
        List<String> candidates = new ArrayList<>(nonNull(spec.getClusterIPs()));
        if (candidates.isEmpty() && spec.getClusterIP() != null) {
            candidates.add(spec.getClusterIP());
        }
        return candidates.stream().filter(Cidr::isIPv4).findFirst();
    }

    private static <T> List<T> nonNull(List<T> list) {
        return list == null ? List.of() : list;
    }
}
