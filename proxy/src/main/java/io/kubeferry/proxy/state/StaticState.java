package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ProxyState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The state for a fixed set of objects (from files, or one list of a cluster): what {@code render} shows.
 * It runs the same converters and endpoint choice as the agent, so the program it leads to is the one the
 * agent would apply for the same objects. The objects are put in one canonical order first (kind,
 * namespace, name), so the same objects give the same state whatever files or order they came in.
 */
public final class StaticState {

    private StaticState() {
    }

    /**
     * @param states  the state per IP family for the objects that could be used: always both families (a family no
     *                Service has an address of has an empty state)
     * @param skipped every object (or part) that was not, with the reason; sorted
     */
    public record Result(Map<IpFamily, ProxyState> states, List<SkippedObject> skipped) {

        public Result {
            states = Collections.unmodifiableMap(new EnumMap<>(states));
            skipped = List.copyOf(skipped);
        }

        /** The state of {@code family}. */
        public ProxyState state(IpFamily family) {
            return states.get(family);
        }

        /** The IPv4 state: for single-stack callers. */
        public ProxyState state() {
            return state(IpFamily.IPv4);
        }
    }

    /** The IPv4 state for the objects. */
    public static ProxyState of(Collection<? extends HasMetadata> objects, String nodeName, String serviceProxyName) {
        return build(objects, nodeName, serviceProxyName).state();
    }

    public static Result build(Collection<? extends HasMetadata> objects, String nodeName, String serviceProxyName) {
        ClusterState state = new ClusterState(nodeName, serviceProxyName, Set.of(), new SimpleMeterRegistry());
        for (HasMetadata object : canonical(objects, state)) {
            if (object instanceof Node node) {
                if (nodeName.equals(nameOf(node))) {
                    state.onNode(node);
                }
            } else if (object instanceof Service service) {
                state.onService(service);
            } else if (object instanceof EndpointSlice slice) {
                state.onSlice(slice);
            } else if (object instanceof ServiceCIDR cidr) {
                state.onServiceCIDR(cidr);
            } else {
                state.onSkipped(kindOf(object), namespaceOf(object), nameOf(object), ObjectProblem.skip("unknown-kind",
                        "kind " + kindOf(object) + " (apiVersion " + object.getApiVersion() + ") is not read by kube-ferry, which reads "
                                + "v1 Service, discovery.k8s.io/v1 EndpointSlice, v1 Node and networking.k8s.io/v1 ServiceCIDR"));
            }
        }
        return new Result(state.take().states(), state.skipped());
    }

    /**
     * The objects sorted by kind, namespace and name. An object given twice (the same file named twice, say)
     * counts once; two different objects with one identity are both skipped, since which one the cluster
     * holds cannot be known and picking by input order would make the output depend on it.
     */
    private static List<HasMetadata> canonical(Collection<? extends HasMetadata> objects, ClusterState state) {
        Map<String, List<HasMetadata>> byIdentity = new LinkedHashMap<>();
        for (HasMetadata object : objects) {
            if (object == null) {
                continue;
            }
            String identity = kindOf(object) + " " + object.getApiVersion() + " " + namespaceOf(object) + "/" + nameOf(object);
            List<HasMetadata> copies = byIdentity.computeIfAbsent(identity, k -> new ArrayList<>());
            if (!copies.contains(object)) {
                copies.add(object);
            }
        }
        List<HasMetadata> out = new ArrayList<>();
        byIdentity.forEach((identity, copies) -> {
            HasMetadata first = copies.get(0);
            if (copies.size() == 1) {
                out.add(first);
            } else {
                state.onSkipped(kindOf(first), namespaceOf(first), nameOf(first), ObjectProblem.skip("duplicate-object",
                        "given " + copies.size() + " times with different contents; none is used"));
            }
        });
        out.sort(Comparator.comparing(StaticState::kindOf).thenComparing(o -> Objects.toString(o.getApiVersion(), ""))
                .thenComparing(StaticState::namespaceOf).thenComparing(o -> Objects.toString(nameOf(o), "")));
        return out;
    }

    private static String kindOf(HasMetadata object) {
        return object.getKind() == null ? object.getClass().getSimpleName() : object.getKind();
    }

    private static String namespaceOf(HasMetadata object) {
        ObjectMeta meta = object.getMetadata();
        // Nodes and ServiceCIDRs are cluster-scoped; the rest default to "default" as kubectl would place them.
        return object instanceof Node || object instanceof ServiceCIDR ? "" : ServiceConverter.namespaceOf(meta);
    }

    private static String nameOf(HasMetadata object) {
        return object.getMetadata() == null ? null : object.getMetadata().getName();
    }
}
