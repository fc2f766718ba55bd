package io.kubeferry.example.hooks;

import io.kubeferry.proxy.conntrack.ConntrackHook;
import io.kubeferry.proxy.conntrack.ConntrackHookProvider;
import io.kubeferry.proxy.dataplane.DataplaneContext;

/**
 * What the agent finds on the class path: listed in
 * {@code META-INF/services/io.kubeferry.proxy.conntrack.ConntrackHookProvider}, called once at start with the
 * agent's context (its configuration, tool runner and metrics registry).
 */
public final class EndpointRemovalLogProvider implements ConntrackHookProvider {

    @Override
    public ConntrackHook create(DataplaneContext context) {
        return new EndpointRemovalLog(context.metrics());
    }
}
