package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * What one successful sync changed (or, for a hook that was still busy, several syncs in a row merged into one,
 * see {@link ConntrackHook}).
 *
 * @param previous the state programmed before (empty on the first sync)
 * @param current  the state now programmed
 * @param changed  Service ports whose service or endpoints changed (all of them on a full sync after start)
 * @param full     true when the sync (any of the merged ones) was full
 * @param changes  the typed change set from {@code previous} to {@code current}
 * @param syncs    how many syncs this change covers (1 unless a slow hook had some merged)
 */
public record ConntrackChange(ProxyState previous, ProxyState current, Set<ServicePortName> changed, boolean full,
        ConntrackChanges changes, int syncs) {

    public ConntrackChange {
        Objects.requireNonNull(previous, "previous");
        Objects.requireNonNull(current, "current");
        Objects.requireNonNull(changes, "changes");
        changed = Set.copyOf(changed);
    }

    /** One sync's change, its change set computed from the two states (O(Service ports); off the event loop). */
    public ConntrackChange(ProxyState previous, ProxyState current, Set<ServicePortName> changed, boolean full) {
        this(previous, current, changed, full, ConntrackChanges.between(previous, current), 1);
    }

    /** This change followed by {@code next} (the sync right after it), as one. */
    public ConntrackChange then(ConntrackChange next) {
        Set<ServicePortName> both = new HashSet<>(changed);
        both.addAll(next.changed);
        return new ConntrackChange(previous, next.current, both, full || next.full, changes.then(next.changes, previous, next.current),
                syncs + next.syncs);
    }
}
