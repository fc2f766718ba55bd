package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.dataplane.DataplaneContext;

/** Registers the built-in stale-UDP conntrack hook. */
public final class StaleUdpConntrackProvider implements ConntrackHookProvider {

    @Override
    public ConntrackHook create(DataplaneContext context) {
        return new StaleUdpConntrack(context.tools(), context.metrics());
    }
}
