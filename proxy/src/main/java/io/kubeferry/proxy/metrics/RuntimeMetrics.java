package io.kubeferry.proxy.metrics;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;

/**
 * The process and JVM metrics beside the kubeproxy_* ones. kube-proxy (Go) exposes the process collector's
 * process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_start_time_seconds, process_open_fds and process_max_fds; client_java's ProcessMetrics gives the
 * JVM those same names and types (from /proc/self and the OS MXBean), so dashboards built for kube-proxy keep
 * working. The JVM's own state (memory, GC, threads, classes) comes from Micrometer's binders as jvm_*.
 */
public final class RuntimeMetrics implements AutoCloseable {

    private final JvmGcMetrics gc = new JvmGcMetrics();

    public RuntimeMetrics(PrometheusMeterRegistry registry) {
        ProcessMetrics.builder().register(registry.getPrometheusRegistry());
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        gc.bindTo(registry);
    }

    /** Removes the GC notification listeners (several agents may run in one JVM, as in tests). */
    @Override
    public void close() {
        gc.close();
    }
}
