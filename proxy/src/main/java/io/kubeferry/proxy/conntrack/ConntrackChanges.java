package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What the programmed Service ports and their endpoints went through between two states, typed for the
 * connection-tracking hooks. An endpoint is "removed" when its {@code ip:port} no longer appears in its Service
 * port's EndpointSlices at all (or the Service port went): an endpoint that only stopped being ready, or started
 * terminating, is still listed and is not removed, so readiness blips and graceful termination never count as
 * removals. Every list is in a stable order (Service port, then {@code ip:port}).
 *
 * @param removedEndpoints endpoints gone from their Service port, with the conditions they last had
 * @param addedEndpoints   endpoints new to their Service port
 * @param removedServices  Service ports no longer programmed, as they last were
 * @param addedServices    Service ports programmed for the first time
 * @param changedServices  Service ports whose addresses or ports changed (ClusterIP, port, NodePort, externalIPs,
 *                         LoadBalancer IPs)
 */
public record ConntrackChanges(
        List<ServiceEndpoint> removedEndpoints,
        List<ServiceEndpoint> addedEndpoints,
        List<ServicePort> removedServices,
        List<ServicePort> addedServices,
        List<ChangedService> changedServices) {

    public static final ConntrackChanges NONE = new ConntrackChanges(List.of(), List.of(), List.of(), List.of(), List.of());

    public ConntrackChanges {
        removedEndpoints = List.copyOf(removedEndpoints);
        addedEndpoints = List.copyOf(addedEndpoints);
        removedServices = List.copyOf(removedServices);
        addedServices = List.copyOf(addedServices);
        changedServices = List.copyOf(changedServices);
    }

    /**
     * One endpoint of one Service port: as it last was (a removal) or as it now is (an addition).
     *
     * @param service  the Service port, as last programmed for a removal (its options carry the annotations)
     * @param endpoint the endpoint with its conditions ({@link Endpoint#terminating()}, {@link Endpoint#serving()})
     */
    public record ServiceEndpoint(ServicePort service, Endpoint endpoint) {

        public ServiceEndpoint {
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(endpoint, "endpoint");
        }

        /** For a removal: it was terminating when last seen, so its flows are draining, as graceful termination wants. */
        public boolean terminating() {
            return endpoint.terminating();
        }

        Key key() {
            return new Key(service.name(), endpoint.hostPort());
        }
    }

    /** A Service port whose addresses or ports changed: as it was and as it is. */
    public record ChangedService(ServicePort before, ServicePort after) {

        public ChangedService {
            Objects.requireNonNull(before, "before");
            Objects.requireNonNull(after, "after");
        }

        public ServicePortName name() {
            return after.name();
        }

        /** The {@code ip:port} addresses the port answered on before and no longer does (NodePorts as {@code :port}). */
        public Set<String> lostAddresses() {
            Set<String> lost = new LinkedHashSet<>(addresses(before));
            lost.removeAll(addresses(after));
            return lost;
        }
    }

    /** One endpoint of one Service port: the identity removals and additions are matched by. */
    record Key(ServicePortName service, String hostPort) {
    }

    /** The changes from {@code previous} to {@code current}. */
    public static ConntrackChanges between(ProxyState previous, ProxyState current) {
        List<ServiceEndpoint> removed = new ArrayList<>();
        List<ServiceEndpoint> added = new ArrayList<>();
        List<ServicePort> removedServices = new ArrayList<>();
        List<ServicePort> addedServices = new ArrayList<>();
        List<ChangedService> changed = new ArrayList<>();
        for (Map.Entry<ServicePortName, ResolvedService> before : previous.services().entrySet()) {
            ResolvedService after = current.services().get(before.getKey());
            if (after == null) {
                removedServices.add(before.getValue().port());
                before.getValue().allEndpoints().forEach(ep -> removed.add(new ServiceEndpoint(before.getValue().port(), ep)));
            } else if (!after.equals(before.getValue())) {
                if (!addresses(before.getValue().port()).equals(addresses(after.port()))) {
                    changed.add(new ChangedService(before.getValue().port(), after.port()));
                }
                diffEndpoints(before.getValue(), after, removed, added);
            }
        }
        for (Map.Entry<ServicePortName, ResolvedService> after : current.services().entrySet()) {
            if (!previous.services().containsKey(after.getKey())) {
                addedServices.add(after.getValue().port());
                after.getValue().allEndpoints().forEach(ep -> added.add(new ServiceEndpoint(after.getValue().port(), ep)));
            }
        }
        return new ConntrackChanges(removed, added, removedServices, addedServices, changed);
    }

    private static void diffEndpoints(ResolvedService before, ResolvedService after, List<ServiceEndpoint> removed,
            List<ServiceEndpoint> added) {
        Map<String, Endpoint> was = byHostPort(before.allEndpoints());
        Map<String, Endpoint> is = byHostPort(after.allEndpoints());
        was.forEach((hostPort, ep) -> {
            if (!is.containsKey(hostPort)) {
                // The port as now programmed: its annotations are the ones in force when the endpoint went.
                removed.add(new ServiceEndpoint(after.port(), ep));
            }
        });
        is.forEach((hostPort, ep) -> {
            if (!was.containsKey(hostPort)) {
                added.add(new ServiceEndpoint(after.port(), ep));
            }
        });
    }

    private static Map<String, Endpoint> byHostPort(List<Endpoint> endpoints) {
        Map<String, Endpoint> map = new LinkedHashMap<>();
        endpoints.forEach(ep -> map.put(ep.hostPort(), ep));
        return map;
    }

    /** Every address a port answers on: {@code ip:port} for its IPs, {@code :nodePort} for its NodePort. */
    static Set<String> addresses(ServicePort port) {
        Set<String> all = new LinkedHashSet<>();
        all.add(port.clusterIP() + ":" + port.port());
        port.externalIPs().forEach(ip -> all.add(ip + ":" + port.port()));
        port.loadBalancerIPs().forEach(ip -> all.add(ip + ":" + port.port()));
        if (port.nodePort() > 0) {
            all.add(":" + port.nodePort());
        }
        return all;
    }

    /**
     * These changes (from {@code start}) followed by {@code next} (to {@code end}), as one: what a hook that missed
     * the syncs in between must act on. Additions and Service changes are the net ones from {@code start} to
     * {@code end}; removals are every removal, of this or of {@code next}, whose endpoint (or Service port) is absent
     * at {@code end}: the net ones and the transient ones (added and removed in between, flows may have reached
     * them). An endpoint removed and then listed again is in neither list: it is back and its flows are valid.
     */
    public ConntrackChanges then(ConntrackChanges next, ProxyState start, ProxyState end) {
        ConntrackChanges net = between(start, end);
        Map<Key, ServiceEndpoint> removed = new LinkedHashMap<>();
        Set<Key> atEnd = new LinkedHashSet<>();
        for (ResolvedService svc : end.services().values()) {
            svc.allEndpoints().forEach(ep -> atEnd.add(new Key(svc.name(), ep.hostPort())));
        }
        for (ServiceEndpoint r : removedEndpoints) {
            if (!atEnd.contains(r.key())) {
                removed.put(r.key(), r);
            }
        }
        for (ServiceEndpoint r : next.removedEndpoints) {
            if (!atEnd.contains(r.key())) {
                removed.put(r.key(), r); // the later removal's conditions are the last known
            }
        }
        Map<ServicePortName, ServicePort> removedPorts = new LinkedHashMap<>();
        for (List<ServicePort> ports : List.of(removedServices, next.removedServices)) {
            for (ServicePort p : ports) {
                if (!end.services().containsKey(p.name())) {
                    removedPorts.putIfAbsent(p.name(), p); // the first form: the one whose flows may still exist
                }
            }
        }
        return new ConntrackChanges(sorted(removed.values()), net.addedEndpoints, List.copyOf(removedPorts.values()),
                net.addedServices, net.changedServices);
    }

    /** Only what concerns one protocol (e.g. the TCP flows hook looks at TCP ports only). */
    public ConntrackChanges only(Protocol protocol) {
        Predicate<ServicePort> of = p -> p.protocol() == protocol;
        return new ConntrackChanges(removedEndpoints.stream().filter(r -> of.test(r.service())).toList(),
                addedEndpoints.stream().filter(a -> of.test(a.service())).toList(), removedServices.stream().filter(of).toList(),
                addedServices.stream().filter(of).toList(), changedServices.stream().filter(c -> of.test(c.after())).toList());
    }

    public boolean isEmpty() {
        return removedEndpoints.isEmpty() && addedEndpoints.isEmpty() && removedServices.isEmpty() && addedServices.isEmpty()
                && changedServices.isEmpty();
    }

    private static List<ServiceEndpoint> sorted(Collection<ServiceEndpoint> items) {
        return items.stream().sorted(java.util.Comparator.comparing((ServiceEndpoint r) -> r.service().name())
                .thenComparing(r -> r.endpoint().hostPort())).toList();
    }

}
