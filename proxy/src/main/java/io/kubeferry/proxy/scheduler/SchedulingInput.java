package io.kubeferry.proxy.scheduler;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ServicePort;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a {@link SchedulerAlgorithm} is given for one Service port on one node.
 *
 * @param port          the Service port (its {@link ServicePort#options()} hold the Service's {@code kube-ferry.io/}
 *                      annotations, for an algorithm that reads its own)
 * @param endpoints     the endpoints the dataplane dispatches among, sorted by {@code ip:port} as strings: the same
 *                      order on every node for the same endpoint set, so a table computed from them is the same on
 *                      every node; never empty
 * @param flags         the flags the Service asked for, already checked against {@link SchedulerAlgorithm#flags()}
 * @param hashTableSize the node's table size for consistent-hash algorithms (a prime, the same on every node of a
 *                      cluster when configured alike); an algorithm may use another size up to
 *                      {@link SlotTable#MAX_SLOTS}
 */
public record SchedulingInput(ServicePort port, List<Endpoint> endpoints, Set<String> flags, int hashTableSize) {

    public SchedulingInput {
        Objects.requireNonNull(port, "port");
        endpoints = List.copyOf(endpoints);
        flags = Set.copyOf(flags);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no endpoints to schedule among for " + port.name());
        }
    }
}
