package io.kubeferry.proxy.testing.partial;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.kubeferry.proxy.testing.Fixtures;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * A random but valid cluster that changes step by step, as the API server would let it: Services added,
 * deleted and edited (type, ports, protocols, traffic policies, affinity, external and load-balancer IPs,
 * source ranges) and EndpointSlices created, edited (endpoints added, removed, made ready, serving or
 * terminating, on this node or another) and deleted. Addresses and ports never collide between Services, as
 * the API server's allocators make sure. Seeded: the same seed gives the same history.
 */
public final class ClusterChurn {

    static final String NAMESPACE = "ns";
    private static final int MAX_SERVICES = 8;
    private static final String[] RANGES = {"198.18.2.0/24", "198.18.1.0/24", "198.18.3.128/25"};

    private final Random random;
    private final TreeMap<String, Service> services = new TreeMap<>();
    private final TreeMap<String, EndpointSlice> slices = new TreeMap<>();
    private final List<String> log = new ArrayList<>();
    private int nextService;

    /** The history drawn from {@code seed}: the same seed, the same history. */
    public ClusterChurn(long seed) {
        this.random = new Random(seed);
    }

    public Map<String, Service> services() {
        return Map.copyOf(services);
    }

    public Map<String, EndpointSlice> slices() {
        return Map.copyOf(slices);
    }

    /** What happened so far, one line per change, for the failure message. */
    public List<String> log() {
        return List.copyOf(log);
    }

    /** Where a change goes: a Service or EndpointSlice added or changed, or deleted, as informers report them. */
    @FunctionalInterface
    public interface Sink {

        void accept(Object object, boolean deleted);
    }

    /** Makes one random change and hands it to {@code sink}. */
    public void step(Sink sink) {
        int roll = random.nextInt(100);
        if (services.isEmpty() || (roll < 15 && services.size() < MAX_SERVICES)) {
            Service s = newService();
            services.put(name(s), s);
            log.add("add Service " + describe(s));
            sink.accept(s, false);
        } else if (roll < 25) {
            Service s = pick(services);
            services.remove(name(s));
            log.add("delete Service " + name(s));
            sink.accept(s, true);
            if (random.nextInt(10) < 7) {
                // The garbage collector takes the slices with it, usually soon, sometimes later (or never here).
                for (EndpointSlice slice : List.copyOf(slices.values())) {
                    if (slice.getMetadata().getLabels().get("kubernetes.io/service-name").equals(name(s))) {
                        slices.remove(slice.getMetadata().getName());
                        log.add("delete EndpointSlice " + slice.getMetadata().getName());
                        sink.accept(slice, true);
                    }
                }
            }
        } else if (roll < 50) {
            Service old = pick(services);
            Service s = edit(old);
            services.put(name(s), s);
            log.add("edit Service " + describe(s));
            sink.accept(s, false);
        } else if (roll < 90) {
            Service owner = pick(services);
            EndpointSlice slice = slice(owner, name(owner) + "-" + (char) ('a' + random.nextInt(2)));
            slices.put(slice.getMetadata().getName(), slice);
            log.add("put EndpointSlice " + describe(slice));
            sink.accept(slice, false);
        } else if (!slices.isEmpty()) {
            EndpointSlice slice = pick(slices);
            slices.remove(slice.getMetadata().getName());
            log.add("delete EndpointSlice " + slice.getMetadata().getName());
            sink.accept(slice, true);
        }
    }

    /** Hands the current objects to {@code sink}, as an informer's initial list does. */
    public void replay(Sink sink) {
        services.values().forEach(s -> sink.accept(s, false));
        slices.values().forEach(s -> sink.accept(s, false));
    }

    private <T> T pick(TreeMap<String, T> map) {
        List<T> values = new ArrayList<>(map.values());
        return values.get(random.nextInt(values.size()));
    }

    private static String name(Service s) {
        return s.getMetadata().getName();
    }

    /** Numbers a Service holds (ClusterIP, node ports, IPs) are derived from its index: never shared. */
    private static int index(Service s) {
        return Integer.parseInt(name(s).substring(4));
    }

    private Service newService() {
        int i = nextService++;
        Service base = new ServiceBuilder().withNewMetadata().withName("svc-" + i).withNamespace(NAMESPACE).endMetadata()
                .withNewSpec().withClusterIP("198.19.0." + (i + 1)).withType("ClusterIP").endSpec().build();
        return edit(base);
    }

    /** A new random spec (and load-balancer status) for the Service; name and ClusterIP stay. */
    private Service edit(Service old) {
        int i = index(old);
        String type = List.of("ClusterIP", "ClusterIP", "NodePort", "LoadBalancer").get(random.nextInt(4));
        boolean external = !type.equals("ClusterIP");
        int portCount = 1 + random.nextInt(2);
        List<io.fabric8.kubernetes.api.model.ServicePort> ports = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (int p = 0; p < portCount; p++) {
            String protocol = List.of("TCP", "TCP", "UDP", "SCTP").get(random.nextInt(4));
            int number = List.of(80, 443, 53).get(random.nextInt(3));
            if (!used.add(protocol + number)) {
                continue;
            }
            ServicePortBuilder b = new ServicePortBuilder().withName(portCount == 1 && random.nextBoolean() ? null : "p" + p)
                    .withProtocol(protocol).withPort(number).withTargetPort(new IntOrString(8080 + p));
            if (external) {
                b.withNodePort(30000 + i * 10 + p);
            }
            ports.add(b.build());
        }
        boolean local = external && random.nextInt(3) == 0;
        ServiceBuilder b = new ServiceBuilder(old).editSpec().withType(type).withPorts(ports)
                .withExternalTrafficPolicy(external ? (local ? "Local" : "Cluster") : null)
                .withInternalTrafficPolicy(random.nextInt(4) == 0 ? "Local" : "Cluster")
                .withHealthCheckNodePort(type.equals("LoadBalancer") && local ? 32000 + i : null)
                .withSessionAffinity(random.nextInt(4) == 0 ? "ClientIP" : "None")
                .withExternalIPs(random.nextInt(4) == 0 ? List.of("198.19.100." + (i + 1)) : List.of())
                .withLoadBalancerSourceRanges(type.equals("LoadBalancer") && random.nextBoolean()
                        ? List.of(RANGES[random.nextInt(RANGES.length)])
                        : List.of())
                .endSpec();
        b.withNewStatus().withNewLoadBalancer().endLoadBalancer().endStatus();
        if (type.equals("LoadBalancer") && random.nextInt(4) > 0) {
            b.editStatus().editLoadBalancer().addNewIngress().withIp("198.19.200." + (i + 1)).endIngress().endLoadBalancer().endStatus();
        }
        return b.build();
    }

    /** A slice for the Service's current ports with a random set of endpoints. */
    private EndpointSlice slice(Service owner, String sliceName) {
        EndpointSliceBuilder b = new EndpointSliceBuilder().withNewMetadata().withName(sliceName).withNamespace(NAMESPACE)
                .addToLabels("kubernetes.io/service-name", name(owner)).endMetadata().withAddressType("IPv4");
        for (io.fabric8.kubernetes.api.model.ServicePort p : owner.getSpec().getPorts()) {
            b.addToPorts(new EndpointPortBuilder().withName(p.getName()).withProtocol(p.getProtocol())
                    .withPort(p.getTargetPort().getIntVal()).build());
        }
        int count = random.nextInt(4);
        Set<Integer> hosts = new HashSet<>();
        for (int e = 0; e < count; e++) {
            int host = 10 + random.nextInt(12);
            if (!hosts.add(host)) {
                continue;
            }
            int condition = random.nextInt(6);
            boolean ready = condition < 4;
            boolean serving = condition != 5;
            boolean terminating = condition >= 4;
            b.addToEndpoints(new EndpointBuilder().withAddresses("198.18.0." + host)
                    .withNodeName(random.nextBoolean() ? Fixtures.NODE : "node-b")
                    .withNewConditions().withReady(ready).withServing(serving).withTerminating(terminating).endConditions()
                    .build());
        }
        return b.build();
    }

    private static String describe(Service s) {
        var spec = s.getSpec();
        StringBuilder out = new StringBuilder(name(s)).append(' ').append(spec.getType());
        spec.getPorts().forEach(p -> out.append(' ').append(p.getName() == null ? "" : p.getName() + "=").append(p.getProtocol())
                .append('/').append(p.getPort()).append(p.getNodePort() == null ? "" : ":" + p.getNodePort()));
        out.append(" etp=").append(spec.getExternalTrafficPolicy()).append(" itp=").append(spec.getInternalTrafficPolicy())
                .append(" affinity=").append(spec.getSessionAffinity()).append(" externalIPs=").append(spec.getExternalIPs())
                .append(" ranges=").append(spec.getLoadBalancerSourceRanges()).append(" ingress=")
                .append(s.getStatus().getLoadBalancer().getIngress().stream().map(x -> x.getIp()).toList());
        return out.toString();
    }

    private static String describe(EndpointSlice s) {
        StringBuilder out = new StringBuilder(s.getMetadata().getName()).append(':');
        s.getEndpoints().forEach(e -> out.append(' ').append(e.getAddresses().get(0)).append('@').append(e.getNodeName())
                .append(e.getConditions().getReady() ? "" : "/not-ready").append(e.getConditions().getServing() ? "" : "/not-serving")
                .append(e.getConditions().getTerminating() ? "/terminating" : ""));
        return out.toString();
    }
}
