package io.kubeferry.proxy.dataplane;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.IpFamily;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;

/**
 * What a backend is given when it is created.
 *
 * @param config  the effective configuration
 * @param tools   the runner for netfilter tools (a fake in unit tests)
 * @param metrics where backend-specific metrics are registered
 * @param events  where warnings about single Services go (Kubernetes Events when an API server is at hand)
 * @param family  the IP family the dataplane programs: one instance per family, each given only its family's
 *                {@link io.kubeferry.proxy.model.ProxyState}s, and each touching only its family's kernel state
 */
public record DataplaneContext(ProxyConfig config, ToolRunner tools, MeterRegistry metrics, ServiceEvents events, IpFamily family) {

    public DataplaneContext {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(tools, "tools");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(family, "family");
    }

    /** An IPv4 context. */
    public DataplaneContext(ProxyConfig config, ToolRunner tools, MeterRegistry metrics, ServiceEvents events) {
        this(config, tools, metrics, events, IpFamily.IPv4);
    }

    /** An IPv4 context whose Service warnings are only logged. */
    public DataplaneContext(ProxyConfig config, ToolRunner tools, MeterRegistry metrics) {
        this(config, tools, metrics, ServiceEvents.LOG_ONLY);
    }

    /** The same context for another family. */
    public DataplaneContext withFamily(IpFamily value) {
        return new DataplaneContext(config, tools, metrics, events, value);
    }
}
