package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.dataplane.DataplaneContext;

import java.util.List;
import java.util.ServiceLoader;

/**
 * Registers a conntrack hook ({@code META-INF/services/io.kubeferry.proxy.conntrack.ConntrackHookProvider}).
 * Every hook on the class path is used.
 */
public interface ConntrackHookProvider {

    ConntrackHook create(DataplaneContext context);

    static List<ConntrackHookProvider> all() {
        return ServiceLoader.load(ConntrackHookProvider.class).stream().map(ServiceLoader.Provider::get).toList();
    }
}
