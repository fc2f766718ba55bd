package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.dataplane.DataplaneContext;

/** Registers the built-in per-Service conntrack entry counts. */
public final class ServiceConntrackCountsProvider implements ConntrackHookProvider {

    @Override
    public ConntrackHook create(DataplaneContext context) {
        return new ServiceConntrackCounts(context.tools(), context.config().conntrackHooks().countPeriod(), context.metrics());
    }
}
