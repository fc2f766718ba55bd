package io.kubeferry.proxy.scheduler;

import java.util.Set;

/**
 * A load-balancing algorithm that table-driven dataplanes (iptables mode; nftables mode as it learns tables) can
 * run: the SPI third parties implement to add one. Register an implementation in a jar's
 * {@code META-INF/services/io.kubeferry.proxy.scheduler.SchedulerAlgorithm} and put the jar on the agent's class
 * path; a Service then asks for it by {@link #name()} in its {@code kube-ferry.io/scheduler} annotation (flags in
 * {@code kube-ferry.io/scheduler-flags}, comma-separated), or the node makes it the default
 * ({@code --scheduler}).
 *
 * <p>The contract:
 * <ul>
 * <li><b>What it gets:</b> one {@link SchedulingInput} per Service port and endpoint set (the cluster-wide or the
 * node-local endpoints the mode dispatches among), the endpoints in a fixed order (by {@code ip:port}), never
 * empty, plus the Service's flags and the node's hash table size.</li>
 * <li><b>What it returns:</b> a {@link SlotTable}, a mode-neutral description: slots naming endpoints and how a
 * connection picks a slot (random, in turn, by a hash of the client address). The dataplane renders it; the
 * algorithm never sees rule text, chain names or marks.</li>
 * <li><b>Pure and deterministic:</b> the same input gives the same table on every node and in every run (no clock,
 * no randomness, no I/O, no state kept between calls), because nodes must agree without talking to each other
 * and because render must stay a pure function. It runs on the sync path: keep it fast (a table of a few
 * thousand slots in well under a millisecond).</li>
 * <li><b>Failure:</b> an exception, or a table naming an endpoint that does not exist, makes that one Service port
 * fall back to the mode's default with a logged reason and a Warning Event; it never fails the sync.</li>
 * <li><b>Names:</b> lower case, unique; the built-in names ({@code random}, {@code rr}, {@code source-hash},
 * {@code maglev}) and a mode's kernel schedulers (IPVS {@code sh}, ...) cannot be taken: a plugin with a taken
 * name is not loaded, with a logged reason.</li>
 * <li><b>Mode-neutral by design:</b> a mode offers a plugin algorithm when it can express every {@link SlotTable.Key};
 * IPVS mode schedules in the kernel and offers only its kernel schedulers.</li>
 * </ul>
 * Implementations need a public no-argument constructor (ServiceLoader).
 */
public interface SchedulerAlgorithm {

    /** The name a Service asks for, e.g. {@code maglev}. */
    String name();

    /** The flags it understands (empty when none). */
    default Set<String> flags() {
        return Set.of();
    }

    /** The table for one Service port's endpoints; see the class comment for the contract. */
    SlotTable table(SchedulingInput input);
}
