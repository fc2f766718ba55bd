package io.kubeferry.proxy.scheduler;

import java.util.Set;

/** A load-balancing algorithm as a dataplane names it (e.g. IPVS {@code rr}), with its flags (e.g. {@code sh-port}). */
public record Scheduler(String name, Set<String> flags) {

    public Scheduler {
        flags = Set.copyOf(flags);
    }
}
