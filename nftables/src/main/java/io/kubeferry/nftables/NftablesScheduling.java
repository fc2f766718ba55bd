package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.scheduler.Scheduler;
import io.kubeferry.proxy.scheduler.SchedulerAlgorithms;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.scheduler.SchedulerChoice;
import io.kubeferry.proxy.scheduler.SchedulingInput;
import io.kubeferry.proxy.scheduler.SlotTable;

import java.util.List;
import java.util.Set;

/**
 * What nftables mode schedules with: every table-driven algorithm (ServiceDispatch expresses each
 * {@link SlotTable.Key}: numgen random and numgen inc cascades, jhash into the shared slot map), the node's default,
 * and the hash table size.
 *
 * @param catalog       resolves a Service's annotation, falling back to the node's (or the mode's) default
 * @param algorithms    the built-ins and the plugins on the class path
 * @param hashTableSize M for consistent-hash algorithms
 */
record NftablesScheduling(SchedulerCatalog catalog, SchedulerAlgorithms algorithms, int hashTableSize) {

    static final String MODE_DEFAULT = "random";

    /** Built-ins only, the mode's default, the default table size: for render tests and the render command. */
    static NftablesScheduling defaults() {
        SchedulerAlgorithms builtIn = SchedulerAlgorithms.builtIn();
        return new NftablesScheduling(new SchedulerCatalog(builtIn.provider(name -> true), new Scheduler(MODE_DEFAULT, Set.of())),
                builtIn, ProxyConfig.Own.DEFAULT_HASH_TABLE_SIZE);
    }

    /** The agent's: plugins loaded, the node default from {@code --scheduler}. */
    static NftablesScheduling of(ProxyConfig config) {
        SchedulerAlgorithms all = SchedulerAlgorithms.load(Set.of());
        return new NftablesScheduling(
                SchedulerCatalog.forNode("nftables", all.provider(name -> true), config.own().scheduler(), MODE_DEFAULT),
                all, config.own().hashTableSize());
    }

    /** The table for one dispatch chain's endpoints (falling back to random, logged, when the algorithm fails). */
    SlotTable table(ServicePort port, List<Endpoint> endpoints) {
        SchedulerChoice choice = catalog.choose(port);
        return algorithms.schedule(choice, new SchedulingInput(port, endpoints, choice.scheduler().flags(), hashTableSize), MODE_DEFAULT)
                .table();
    }
}
