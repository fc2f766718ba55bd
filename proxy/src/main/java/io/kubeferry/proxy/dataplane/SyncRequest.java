package io.kubeferry.proxy.dataplane;

import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.Objects;
import java.util.Set;

/**
 * What one sync asks a dataplane to do.
 *
 * @param state   the desired state
 * @param changed Service ports whose service or endpoints changed since the last successful sync
 * @param full    true to rewrite everything (first sync, periodic resync, after a failure)
 */
public record SyncRequest(ProxyState state, Set<ServicePortName> changed, boolean full) {

    public SyncRequest {
        Objects.requireNonNull(state, "state");
        changed = Set.copyOf(changed);
    }

    public static SyncRequest full(ProxyState state) {
        return new SyncRequest(state, Set.of(), true);
    }
}
