package io.kubeferry.proxy.dataplane;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ToolRunner;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;

/**
 * What a backend is given when it is created.
 *
 * @param config  the effective configuration
 * @param tools   the runner for netfilter tools (a fake in unit tests)
 * @param metrics where backend-specific metrics are registered
 * @param events  where warnings about single Services go (Kubernetes Events when an API server is at hand)
 */
public record DataplaneContext(ProxyConfig config, ToolRunner tools, MeterRegistry metrics, ServiceEvents events) {

    public DataplaneContext {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(tools, "tools");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(events, "events");
    }

    /** A context whose Service warnings are only logged. */
    public DataplaneContext(ProxyConfig config, ToolRunner tools, MeterRegistry metrics) {
        this(config, tools, metrics, ServiceEvents.LOG_ONLY);
    }
}
