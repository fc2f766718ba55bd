package io.kubeferry.proxy.state;

import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
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
     * One snapshot with what changed since the previous {@link #take()}.
     *
     * @param state        the desired state
     * @param changed      Service ports whose Service or endpoints changed
     * @param triggerTimes EndpointSlice/Service change times (upstream's last-change-trigger-time annotation)
     *                     of the changes folded in, for network_programming_duration_seconds
     */
    record Snapshot(ProxyState state, Set<ServicePortName> changed, List<Instant> triggerTimes) {

        public Snapshot {
            Objects.requireNonNull(state, "state");
            changed = Set.copyOf(changed);
            triggerTimes = List.copyOf(triggerTimes);
        }
    }
}
