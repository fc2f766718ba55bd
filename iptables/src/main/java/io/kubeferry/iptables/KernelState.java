package io.kubeferry.iptables;

import java.util.Set;

/**
 * What the kernel holds before a render, as the renderer needs it.
 *
 * @param applied       the program applied last, or null (a partial render needs it: it edits what that one wrote)
 * @param serviceChains per-Service-port nat chains present now; a full render deletes those it no longer wants
 * @param presentJumps  jump rules already in built-in chains; a full render inserts the others
 */
record KernelState(RestoreProgram applied, Set<String> serviceChains, Set<JumpRule> presentJumps) {

    /** Nothing known: every jump is inserted, no chain is deleted (what {@code kube-ferry render} shows). */
    static final KernelState NONE = new KernelState(null, Set.of(), Set.of());

    KernelState {
        serviceChains = Set.copyOf(serviceChains);
        presentJumps = Set.copyOf(presentJumps);
    }
}
