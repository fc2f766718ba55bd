package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.Objects;
import java.util.Set;

/**
 * What one successful sync changed.
 *
 * @param previous the state programmed before this sync (empty on the first sync)
 * @param current  the state now programmed
 * @param changed  Service ports whose service or endpoints changed (all of them on a full sync after start)
 * @param full     true when the sync was full
 */
public record ConntrackChange(ProxyState previous, ProxyState current, Set<ServicePortName> changed, boolean full) {

    public ConntrackChange {
        Objects.requireNonNull(previous, "previous");
        Objects.requireNonNull(current, "current");
        changed = Set.copyOf(changed);
    }
}
