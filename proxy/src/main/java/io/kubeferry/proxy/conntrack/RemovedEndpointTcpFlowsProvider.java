package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.dataplane.DataplaneContext;

/** Registers the built-in hook that cuts the TCP flows of removed endpoints (opted-in Services). */
public final class RemovedEndpointTcpFlowsProvider implements ConntrackHookProvider {

    @Override
    public ConntrackHook create(DataplaneContext context) {
        return new RemovedEndpointTcpFlows(context.tools(), context.config().conntrackHooks().flushTcp(), context.metrics());
    }
}
