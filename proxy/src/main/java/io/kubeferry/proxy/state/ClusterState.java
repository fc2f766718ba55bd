package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the watch side has seen, and the snapshots built from it. Change tracking is per Service
 * (namespace/name): a Service or EndpointSlice event marks its Service dirty, and {@link #take()}
 * recomputes only dirty Services, so a snapshot of 10,000 Services after one change costs one Service's
 * work plus a map copy. Touched only on the agent's single Vert.x context.
 *
 * <p>Every snapshot holds one state per IP family, as upstream's MetaProxier feeds one proxier per family: a
 * family's state has the Service ports of the Services with a ClusterIP of that family, endpoints from the slices
 * of that addressType, the Node's addresses and the ServiceCIDRs of that family. A Service or Node change
 * recomputes the Service in both families, a slice change only in the slice's family; each family keeps its own
 * resolved map, so the map copy per family is that family's size.
 */
public final class ClusterState implements StateSource {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterState.class);
    static final String SERVICE_CIDR = "ServiceCIDR";
    private static final Set<IpFamily> ALL_FAMILIES = EnumSet.allOf(IpFamily.class);

    private final ServiceConverter services;
    private final EndpointSliceConverter slices;
    /** Each served Service's ports per family (a family is absent when the Service has no ClusterIP of it). */
    private final Map<String, Map<IpFamily, List<ServicePort>>> portsByService = new HashMap<>();
    /** Each Service's slices by family (the slice's addressType) and name. */
    private final Map<String, Map<IpFamily, Map<String, EndpointSliceConverter.Slice>>> slicesByService = new HashMap<>();
    private final Map<IpFamily, FamilyPorts> families = new EnumMap<>(IpFamily.class);
    /**
     * Services to recompute, each with the families whose inputs changed: a Service or Node change touches both, a
     * slice only its addressType's (the other family's part of the Service is then unchanged and not reported).
     */
    private final Map<String, Set<IpFamily>> dirtyServices = new HashMap<>();
    private final Set<String> serviceChanges = new HashSet<>();
    private final Set<String> endpointChanges = new HashSet<>();
    private final List<Instant> triggerTimes = new ArrayList<>();
    private final Counter serviceChangesTotal;
    private final Counter endpointChangesTotal;
    private final Set<String> syncedKinds = new HashSet<>();
    private final Set<String> requiredKinds;
    /** Where each stored slice (namespace/name) was filed (Service and family), so a relabelled slice moves. */
    private final Map<String, Filed> serviceOfSlice = new HashMap<>();
    private final SkippedObjects skipped;
    /** Each ServiceCIDR object's blocks (both families), by name (cluster-scoped). */
    private final Map<String, List<Cidr>> cidrsByServiceCIDR = new HashMap<>();
    /** Their union, each block once, ascending (IPv4 first): each family's state carries its own family's part. */
    private List<Cidr> serviceCIDRs = List.of();
    /** This node, with its addresses of both families (InternalIP first); each state gets its family's view. */
    private NodeInfo node;
    private long generation;

    /** Where a slice is filed. */
    private record Filed(String serviceKey, IpFamily family) {
    }

    /** One family's resolved ports, kept between takes so only dirty Services are recomputed. */
    private static final class FamilyPorts {

        final TreeMap<ServicePortName, ResolvedService> resolved = new TreeMap<>();
        final Map<String, Set<ServicePortName>> namesByService = new HashMap<>();
    }

    /**
     * @param nodeName         this node
     * @param serviceProxyName see {@link ServiceConverter}
     * @param requiredKinds    informer kinds that must report synced before {@link #ready()} (empty = ready at once)
     * @param metrics          where change counters go
     */
    public ClusterState(String nodeName, String serviceProxyName, Set<String> requiredKinds, MeterRegistry metrics) {
        this(nodeName, serviceProxyName, requiredKinds, metrics, ObjectWarnings.NONE);
    }

    /**
     * @param warnings where warnings about skipped Services go (a Warning Event each in {@code run} mode)
     */
    public ClusterState(String nodeName, String serviceProxyName, Set<String> requiredKinds, MeterRegistry metrics,
            ObjectWarnings warnings) {
        this.skipped = new SkippedObjects(metrics, warnings);
        this.services = new ServiceConverter(serviceProxyName);
        this.slices = new EndpointSliceConverter(nodeName);
        this.node = NodeInfo.named(nodeName);
        this.requiredKinds = Set.copyOf(requiredKinds);
        for (IpFamily family : IpFamily.values()) {
            families.put(family, new FamilyPorts());
        }
        this.serviceChangesTotal = Counter.builder("kubeproxy.sync.proxy.rules.service.changes")
                .description("Cumulative proxy rules Service changes").register(metrics);
        this.endpointChangesTotal = Counter.builder("kubeproxy.sync.proxy.rules.endpoint.changes")
                .description("Cumulative proxy rules Endpoint changes").register(metrics);
        Gauge.builder("kubeproxy.sync.proxy.rules.service.changes.pending", serviceChanges, Set::size)
                .description("Pending proxy rules Service changes").register(metrics);
        Gauge.builder("kubeproxy.sync.proxy.rules.endpoint.changes.pending", endpointChanges, Set::size)
                .description("Pending proxy rules Endpoint changes").register(metrics);
    }

    public void markSynced(String kind) {
        syncedKinds.add(kind);
    }

    @Override
    public boolean ready() {
        return syncedKinds.containsAll(requiredKinds);
    }

    /** This node as the IPv4 state sees it (single-stack callers). */
    public NodeInfo node() {
        return node(IpFamily.IPv4);
    }

    /** This node with only {@code family}'s addresses, as that family's state carries it. */
    public NodeInfo node(IpFamily family) {
        return node.withAddresses(node.addresses().stream().filter(family::matches).toList());
    }

    /** A Service was added or changed. */
    public void onService(Service service) {
        String namespace = ServiceConverter.namespaceOf(service.getMetadata());
        String name = service.getMetadata() == null ? null : service.getMetadata().getName();
        String key = namespace + "/" + name;
        ServiceConverter.Result result = services.convert(service);
        skipped.update("Service", namespace, name, result.problems(), name);
        if (result.ignored() != null) {
            LOG.debug("Service {} not proxied: {}", key, result.ignored());
        }
        if (result.byFamily().isEmpty()) {
            if (portsByService.remove(key) == null) {
                return;
            }
        } else {
            Map<IpFamily, List<ServicePort>> previous = portsByService.put(key, result.byFamily());
            if (result.byFamily().equals(previous)) {
                return;
            }
        }
        markDirty(key, ALL_FAMILIES);
        serviceChanges.add(key);
        serviceChangesTotal.increment();
    }

    public void onServiceDeleted(Service service) {
        String namespace = ServiceConverter.namespaceOf(service.getMetadata());
        String name = service.getMetadata() == null ? null : service.getMetadata().getName();
        skipped.forget("Service", namespace, name);
        String key = namespace + "/" + name;
        if (portsByService.remove(key) != null) {
            markDirty(key, ALL_FAMILIES);
            serviceChanges.add(key);
            serviceChangesTotal.increment();
        }
    }

    public void onSlice(EndpointSlice slice) {
        String namespace = ServiceConverter.namespaceOf(slice.getMetadata());
        String sliceName = slice.getMetadata() == null ? null : slice.getMetadata().getName();
        String sliceKey = namespace + "/" + sliceName;
        Filed filedUnder = serviceOfSlice.get(sliceKey);
        if (slice.getMetadata() != null && !services.forThisProxy(slice.getMetadata().getLabels())) {
            // As the informer's selector: a headless Service's or another proxy's slice is not ours (not an error).
            LOG.debug("EndpointSlice {} not proxied: labelled for another service proxy or headless", sliceKey);
            skipped.forget("EndpointSlice", namespace, sliceName);
            if (filedUnder != null) {
                serviceOfSlice.remove(sliceKey);
                removeSlice(filedUnder, sliceName);
            }
            return;
        }
        EndpointSliceConverter.Slice converted = slices.convert(slice);
        skipped.update("EndpointSlice", namespace, sliceName, converted.problems(), converted.serviceName());
        if (converted.skipped() != null) {
            LOG.debug("EndpointSlice {} ignored: {}", sliceKey, converted.skipped());
            if (filedUnder != null) {
                serviceOfSlice.remove(sliceKey);
                removeSlice(filedUnder, sliceName);
            }
            return;
        }
        Filed filed = new Filed(converted.serviceKey(), converted.family());
        if (filedUnder != null && !filedUnder.equals(filed)) {
            removeSlice(filedUnder, sliceName); // relabelled to another Service (or, from files, another addressType)
        }
        serviceOfSlice.put(sliceKey, filed);
        Map<String, EndpointSliceConverter.Slice> byName = slicesByService
                .computeIfAbsent(filed.serviceKey(), k -> new EnumMap<>(IpFamily.class))
                .computeIfAbsent(filed.family(), k -> new HashMap<>());
        EndpointSliceConverter.Slice previous = byName.put(sliceName, converted);
        if (previous != null && previous.endpoints().equals(converted.endpoints())) {
            return;
        }
        markEndpointsChanged(converted.serviceKey(), converted.family(), converted.triggerTime());
    }

    public void onSliceDeleted(EndpointSlice slice) {
        String namespace = ServiceConverter.namespaceOf(slice.getMetadata());
        String sliceName = slice.getMetadata() == null ? null : slice.getMetadata().getName();
        skipped.forget("EndpointSlice", namespace, sliceName);
        Filed filedUnder = serviceOfSlice.remove(namespace + "/" + sliceName);
        if (filedUnder != null) {
            removeSlice(filedUnder, sliceName);
        }
    }

    /**
     * A ServiceCIDR was added or changed. Returns true when the cluster's set of ServiceCIDRs changed with it (a
     * resync of an unchanged object does not): nftables mode then rewrites its drop rule, in a full sync.
     */
    public boolean onServiceCIDR(ServiceCIDR object) {
        String name = object.getMetadata() == null ? null : object.getMetadata().getName();
        if (object.getMetadata() != null && !services.forThisProxy(object.getMetadata().getLabels())) {
            // As the informer's selector (upstream's informer factory puts the same one on ServiceCIDRs).
            LOG.debug("ServiceCIDR {} not read: labelled for another service proxy or headless", name);
            skipped.forget(SERVICE_CIDR, "", name);
            cidrsByServiceCIDR.remove(name);
            return unionChanged();
        }
        ServiceCIDRConverter.Result result = ServiceCIDRConverter.convert(object);
        skipped.update(SERVICE_CIDR, "", name, result.problems(), null);
        if (result.cidrs().isEmpty()) {
            cidrsByServiceCIDR.remove(name);
        } else {
            cidrsByServiceCIDR.put(name, result.cidrs());
        }
        return unionChanged();
    }

    /** A ServiceCIDR was deleted; true when the cluster's set of ServiceCIDRs changed with it. */
    public boolean onServiceCIDRDeleted(ServiceCIDR object) {
        String name = object.getMetadata() == null ? null : object.getMetadata().getName();
        skipped.forget(SERVICE_CIDR, "", name);
        cidrsByServiceCIDR.remove(name);
        return unionChanged();
    }

    /**
     * Recomputes the union. Per block, not per object as upstream's set of strings, whose delete of one object's
     * blocks also drops them when another object still names them.
     */
    private boolean unionChanged() {
        TreeSet<Cidr> union = new TreeSet<>();
        cidrsByServiceCIDR.values().forEach(union::addAll);
        List<Cidr> next = List.copyOf(union);
        if (next.equals(serviceCIDRs)) {
            return false;
        }
        LOG.info("ServiceCIDRs now {}", next.isEmpty() ? "none" : next);
        serviceCIDRs = next;
        return true;
    }

    /** The cluster's ServiceCIDRs of both families, IPv4 first. */
    public List<Cidr> serviceCIDRs() {
        return serviceCIDRs;
    }

    /** The cluster's ServiceCIDRs of {@code family}: what that family's state carries. */
    public List<Cidr> serviceCIDRs(IpFamily family) {
        return serviceCIDRs.stream().filter(c -> c.family() == family).toList();
    }

    /**
     * An object that never reaches the converters (e.g. a kind kube-ferry does not read, from a file) is
     * reported the same way: once, logged, counted.
     */
    public void onSkipped(String kind, String namespace, String name, ObjectProblem problem) {
        skipped.update(kind, namespace, name, List.of(problem), null);
    }

    /** Every object (or part) skipped now, sorted by kind, namespace and name: what {@code render} reports. */
    public List<SkippedObject> skipped() {
        return skipped.current();
    }

    private void removeSlice(Filed filed, String sliceName) {
        Map<IpFamily, Map<String, EndpointSliceConverter.Slice>> byFamily = slicesByService.get(filed.serviceKey());
        Map<String, EndpointSliceConverter.Slice> byName = byFamily == null ? null : byFamily.get(filed.family());
        if (byName != null && byName.remove(sliceName) != null) {
            if (byName.isEmpty()) {
                byFamily.remove(filed.family());
                if (byFamily.isEmpty()) {
                    slicesByService.remove(filed.serviceKey());
                }
            }
            markEndpointsChanged(filed.serviceKey(), filed.family(), null);
        }
    }

    private void markDirty(String serviceKey, Set<IpFamily> families) {
        dirtyServices.computeIfAbsent(serviceKey, k -> EnumSet.noneOf(IpFamily.class)).addAll(families);
    }

    private void markEndpointsChanged(String serviceKey, IpFamily family, Instant trigger) {
        markDirty(serviceKey, EnumSet.of(family));
        endpointChanges.add(serviceKey);
        endpointChangesTotal.increment();
        if (trigger != null) {
            triggerTimes.add(trigger);
        }
    }

    /** This node's Node object changed: zone labels steer topology, so every Service is recomputed. */
    public void onNode(Node object) {
        boolean eligible = object.getMetadata().getDeletionTimestamp() == null
                && (object.getSpec() == null || object.getSpec().getTaints() == null
                        || object.getSpec().getTaints().stream().noneMatch(t -> "ToBeDeletedByClusterAutoscaler".equals(t.getKey())));
        NodeInfo updated = new NodeInfo(node.name(), object.getMetadata().getLabels() == null ? Map.of() : object.getMetadata().getLabels(),
                eligible,
                nodeAddresses(object));
        if (!updated.equals(node)) {
            boolean topologyChanged = !Objects.equals(updated.zone(), node.zone());
            node = updated;
            if (topologyChanged) {
                portsByService.keySet().forEach(key -> markDirty(key, ALL_FAMILIES));
            }
        }
    }

    /**
     * The Node's InternalIP and ExternalIP addresses of both families, InternalIP first (what render opens NodePorts
     * on), IPv6 in canonical form; each family's state keeps its own.
     */
    private static List<String> nodeAddresses(Node object) {
        if (object.getStatus() == null || object.getStatus().getAddresses() == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String type : List.of("InternalIP", "ExternalIP")) {
            // Anything unparsable never reaches a rule.
            object.getStatus().getAddresses().stream()
                    .filter(a -> a != null && type.equals(a.getType()) && ObjectValidation.isIP(a.getAddress())
                            && !ObjectValidation.isIPv4Mapped(a.getAddress()))
                    .map(a -> Cidr.canonical(a.getAddress())).filter(a -> !out.contains(a)).forEach(out::add);
        }
        return List.copyOf(out);
    }

    @Override
    public Snapshot take() {
        Map<IpFamily, Set<ServicePortName>> changed = new EnumMap<>(IpFamily.class);
        for (IpFamily family : IpFamily.values()) {
            changed.put(family, new HashSet<>());
        }
        dirtyServices.forEach((key, dirtyFamilies) -> {
            Map<IpFamily, List<ServicePort>> byFamily = portsByService.getOrDefault(key, Map.of());
            for (IpFamily family : dirtyFamilies) {
                recompute(key, family, families.get(family), byFamily.getOrDefault(family, List.of()), changed.get(family));
            }
        });
        dirtyServices.clear();
        serviceChanges.clear();
        endpointChanges.clear();
        List<Instant> triggers = List.copyOf(triggerTimes);
        triggerTimes.clear();
        long now = ++generation;
        Map<IpFamily, ProxyState> states = new EnumMap<>(IpFamily.class);
        families.forEach((family, ports) -> states.put(family,
                new ProxyState(node(family), ports.resolved, now, serviceCIDRs(family), family)));
        return new Snapshot(states, changed, triggers);
    }

    /** One dirty Service in one family: its old ports there leave, its new ones come; both count as changed. */
    private void recompute(String key, IpFamily family, FamilyPorts state, List<ServicePort> ports, Set<ServicePortName> changed) {
        Set<ServicePortName> old = state.namesByService.remove(key);
        if (old != null) {
            for (ServicePortName name : old) {
                state.resolved.remove(name);
            }
            changed.addAll(old);
        }
        if (ports.isEmpty()) {
            return;
        }
        Map<EndpointSliceConverter.PortKey, List<Endpoint>> merged = mergedEndpoints(key, family);
        Set<ServicePortName> names = new HashSet<>();
        for (ServicePort port : ports) {
            List<Endpoint> endpoints = merged.getOrDefault(new EndpointSliceConverter.PortKey(port.name().port(), port.protocol()),
                    List.of());
            state.resolved.put(port.name(), EndpointSelector.categorize(port, endpoints, node));
            names.add(port.name());
        }
        state.namesByService.put(key, names);
        changed.addAll(names);
    }

    /**
     * The Service's endpoints per port across all its slices of {@code family}; one ip:port once, preferring a ready
     * copy.
     */
    private Map<EndpointSliceConverter.PortKey, List<Endpoint>> mergedEndpoints(String serviceKey, IpFamily family) {
        Map<EndpointSliceConverter.PortKey, LinkedHashMap<String, Endpoint>> byPort = new HashMap<>();
        Map<String, EndpointSliceConverter.Slice> byName = slicesByService.getOrDefault(serviceKey, Map.of()).getOrDefault(family,
                Map.of());
        List<String> sliceNames = new ArrayList<>(byName.keySet());
        sliceNames.sort(Comparator.naturalOrder());
        for (String sliceName : sliceNames) {
            byName.get(sliceName).endpoints().forEach((portKey, endpoints) -> {
                LinkedHashMap<String, Endpoint> unique = byPort.computeIfAbsent(portKey, k -> new LinkedHashMap<>());
                for (Endpoint ep : endpoints) {
                    unique.merge(ep.hostPort(), ep, (a, b) -> a.ready() || !b.ready() ? a : b);
                }
            });
        }
        Map<EndpointSliceConverter.PortKey, List<Endpoint>> result = new HashMap<>();
        // Sorted by the ip:port string, as upstream orders endpoints, so rules are stable across restarts.
        byPort.forEach((k, v) -> result.put(k, v.values().stream().sorted(Comparator.comparing(Endpoint::hostPort)).toList()));
        return result;
    }
}
