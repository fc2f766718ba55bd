package io.kubeferry.iptables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.scheduler.SchedulerAlgorithms;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.scheduler.SchedulerChoice;
import io.kubeferry.proxy.scheduler.SchedulingInput;

import java.util.List;

/**
 * What iptables mode schedules with: every table-driven algorithm (iptables can express each {@code SlotTable.Key}:
 * a statistic random or nth cascade, or HMARK into the packet mark), the node's default, and the hash table size.
 *
 * @param catalog       resolves a Service's annotation, falling back to the node's (or the mode's) default
 * @param algorithms    the built-ins and the plugins on the class path
 * @param hashTableSize M for consistent-hash algorithms
 */
record IptablesScheduling(SchedulerCatalog catalog, SchedulerAlgorithms algorithms, int hashTableSize) {

    static final String MODE_DEFAULT = "random";

    /** Built-ins only, the mode's default, the default table size: for render tests. */
    static IptablesScheduling defaults() {
        SchedulerAlgorithms builtIn = SchedulerAlgorithms.builtIn();
        return new IptablesScheduling(new SchedulerCatalog(builtIn.provider(name -> true), new io.kubeferry.proxy.scheduler.Scheduler(
                MODE_DEFAULT, java.util.Set.of())), builtIn, ProxyConfig.Own.DEFAULT_HASH_TABLE_SIZE);
    }

    /** The agent's: plugins loaded, the node default from {@code --scheduler}. */
    static IptablesScheduling of(ProxyConfig config) {
        SchedulerAlgorithms all = SchedulerAlgorithms.load(java.util.Set.of());
        return new IptablesScheduling(
                SchedulerCatalog.forNode("iptables", all.provider(name -> true), config.own().scheduler(), MODE_DEFAULT),
                all, config.own().hashTableSize());
    }

    SchedulerChoice choose(ServicePort port) {
        return catalog.choose(port);
    }

    SchedulerAlgorithms.Scheduled schedule(SchedulerChoice choice, ServicePort port, List<Endpoint> endpoints) {
        return algorithms.schedule(choice, new SchedulingInput(port, endpoints, choice.scheduler().flags(), hashTableSize), MODE_DEFAULT);
    }
}
