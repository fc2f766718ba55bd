package io.kubeferry.proxy.state;

import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;

import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state stage as the sync stage sees it. Called only on the agent's single Vert.x context, the
 * same context the watch side delivers events on, so no locking is needed.
 */
public interface StateSource {

    /** True once the initial lists of Services, EndpointSlices and this Node have been received. */
    boolean ready();

    /** Builds the snapshot to program now, and forgets the changes it reports. */
    Snapshot take();

    /**
     * One snapshot, one {@link ProxyState} per IP family, with what changed since the previous {@link #take()}.
     *
     * @param states          the desired state per family: always both families (a family without Services has an
     *                        empty state), so a node that runs a family programs its skeleton as upstream does
     * @param changedByFamily per family, the Service ports whose Service or endpoints changed in that family (a
     *                        name that is in neither the last nor this state of a family is not listed for it)
     * @param triggerTimes    EndpointSlice/Service change times (upstream's last-change-trigger-time annotation)
     *                        of the changes folded in, for network_programming_duration_seconds
     */
    record Snapshot(Map<IpFamily, ProxyState> states, Map<IpFamily, Set<ServicePortName>> changedByFamily, List<Instant> triggerTimes) {

        public Snapshot {
            states = Collections.unmodifiableMap(new EnumMap<>(states));
            EnumMap<IpFamily, Set<ServicePortName>> copy = new EnumMap<>(IpFamily.class);
            changedByFamily.forEach((family, names) -> copy.put(family, Set.copyOf(names)));
            changedByFamily = Collections.unmodifiableMap(copy);
            triggerTimes = List.copyOf(triggerTimes);
            for (Map.Entry<IpFamily, ProxyState> entry : states.entrySet()) {
                if (entry.getValue().family() != entry.getKey()) {
                    throw new IllegalArgumentException("a " + entry.getValue().family() + " state filed as " + entry.getKey());
                }
            }
        }

        /** A single-family snapshot: {@code state} for its family, an empty state for the other. */
        public Snapshot(ProxyState state, Set<ServicePortName> changed, List<Instant> triggerTimes) {
            this(Map.of(state.family(), state), Map.of(state.family(), changed), triggerTimes);
        }

        /** The state of {@code family} (empty when the snapshot has none for it). */
        public ProxyState state(IpFamily family) {
            ProxyState state = states.get(family);
            if (state != null) {
                return state;
            }
            ProxyState any = states.values().stream().findFirst().orElseThrow();
            return ProxyState.empty(any.node(), family);
        }

        /** The Service ports that changed in {@code family}. */
        public Set<ServicePortName> changed(IpFamily family) {
            return changedByFamily.getOrDefault(family, Set.of());
        }

        /** The IPv4 state: for single-stack callers (tests, benchmarks, the IPv4-only paths). */
        public ProxyState state() {
            return state(IpFamily.IPv4);
        }

        /** The IPv4 changes: for single-stack callers. */
        public Set<ServicePortName> changed() {
            return changed(IpFamily.IPv4);
        }
    }
}
