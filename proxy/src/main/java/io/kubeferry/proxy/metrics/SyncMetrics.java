package io.kubeferry.proxy.metrics;

import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sync metrics, under upstream kube-proxy's names, types, labels and buckets (k/k pkg/proxy/metrics,
 * v1.35) so existing dashboards and alerts work unchanged. kube-ferry is single-stack IPv4, so the
 * {@code ip_family} label upstream carries is always "IPv4". The histograms are client_java's own, registered
 * in the Prometheus registry beneath Micrometer: Micrometer's Timer refuses upstream's 0 bucket and adds a
 * {@code _max} gauge upstream does not have.
 */
public final class SyncMetrics {

    /** The value of upstream's ip_family label. */
    public static final String IP_FAMILY = "IPv4";

    private final DistributionDataPoint syncDuration;
    private final DistributionDataPoint fullSyncDuration;
    private final DistributionDataPoint partialSyncDuration;
    private final DistributionDataPoint networkProgramming;
    private final Counter syncFailures;
    private final AtomicLong lastSyncMillis = new AtomicLong();
    private final AtomicLong lastQueuedMillis = new AtomicLong();
    private final AtomicInteger noLocalInternal = new AtomicInteger();
    private final AtomicInteger noLocalExternal = new AtomicInteger();

    /**
     * @param partialSyncs whether the mode tells full from partial syncs (upstream registers the
     *                     full/partial duration histograms in iptables and nftables mode only)
     */
    public SyncMetrics(PrometheusMeterRegistry registry, boolean partialSyncs) {
        PrometheusRegistry prometheus = registry.getPrometheusRegistry();
        double[] exponential = exponentialBuckets();
        syncDuration = histogram(prometheus, "kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds",
                exponential);
        fullSyncDuration = partialSyncs
                ? histogram(prometheus, "kubeproxy_sync_full_proxy_rules_duration_seconds",
                        "SyncProxyRules latency in seconds for full resyncs", exponential)
                : null;
        partialSyncDuration = partialSyncs
                ? histogram(prometheus, "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                        "SyncProxyRules latency in seconds for partial resyncs", exponential)
                : null;
        networkProgramming = histogram(prometheus, "kubeproxy_network_programming_duration_seconds",
                "In Cluster Network Programming Latency in seconds", networkProgrammingBuckets());
        syncFailures = Counter.builder("kubeferry.sync.failures").description("Syncs that failed to apply")
                .register(registry);
        Gauge.builder("kubeproxy.sync.proxy.rules.last.timestamp", lastSyncMillis, v -> v.get() / 1000.0).baseUnit("seconds")
                .tag("ip_family", IP_FAMILY).description("The last time proxy rules were successfully synced").register(registry);
        Gauge.builder("kubeproxy.sync.proxy.rules.last.queued.timestamp", lastQueuedMillis, v -> v.get() / 1000.0).baseUnit("seconds")
                .tag("ip_family", IP_FAMILY).description("The last time a sync of proxy rules was queued").register(registry);
        // A gauge whose name ends in _total, as upstream's: MetricsExposition writes it under that name.
        noLocalEndpoints(registry, "internal", noLocalInternal);
        noLocalEndpoints(registry, "external", noLocalExternal);
    }

    /** A gauge whose name ends in _total, as upstream's: MetricsExposition writes it under that exact name. */
    private static void noLocalEndpoints(MeterRegistry registry, String trafficPolicy, AtomicInteger count) {
        Gauge.builder("kubeproxy.sync.proxy.rules.no.local.endpoints.total", count, AtomicInteger::get)
                .tag("ip_family", IP_FAMILY).tag("traffic_policy", trafficPolicy)
                .description("Number of services with a Local traffic policy and no endpoints").register(registry);
    }

    private static DistributionDataPoint histogram(PrometheusRegistry registry, String name, String help, double[] buckets) {
        Histogram histogram = Histogram.builder().name(name).help(help).labelNames("ip_family").classicOnly().withoutExemplars()
                .classicUpperBounds(buckets).register(registry);
        return histogram.labelValues(IP_FAMILY);
    }

    /** Upstream's ExponentialBuckets(0.001, 2, 15): 1 ms to 16.384 s. */
    public static double[] exponentialBuckets() {
        double[] buckets = new double[15];
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = 0.001 * (1L << i);
        }
        return buckets;
    }

    /**
     * Upstream's MergeBuckets(LinearBuckets(0.25, 0.25, 2), LinearBuckets(1, 1, 59), LinearBuckets(60, 5, 12),
     * LinearBuckets(120, 30, 7)): MergeBuckets starts from a 0 bucket, then 0.25 s, 0.5 s, 1..59 s, 60..115 s
     * by 5, 120..300 s by 30.
     */
    static double[] networkProgrammingBuckets() {
        List<Double> buckets = new ArrayList<>(List.of(0.0, 0.25, 0.5));
        for (int s = 1; s <= 59; s++) {
            buckets.add((double) s);
        }
        for (int i = 0; i < 12; i++) {
            buckets.add(60.0 + 5 * i);
        }
        for (int i = 0; i < 7; i++) {
            buckets.add(120.0 + 30 * i);
        }
        return buckets.stream().mapToDouble(Double::doubleValue).toArray();
    }

    public void queued() {
        lastQueuedMillis.set(System.currentTimeMillis());
    }

    public void synced(boolean full, Duration took, List<Instant> triggers) {
        double seconds = took.toNanos() / 1e9;
        syncDuration.observe(seconds);
        DistributionDataPoint byKind = full ? fullSyncDuration : partialSyncDuration;
        if (byKind != null) {
            byKind.observe(seconds);
        }
        Instant now = Instant.now();
        lastSyncMillis.set(now.toEpochMilli());
        for (Instant trigger : triggers) {
            Duration latency = Duration.between(trigger, now);
            if (!latency.isNegative()) {
                networkProgramming.observe(latency.toNanos() / 1e9);
            }
        }
    }

    /**
     * Recounts upstream's sync_proxy_rules_no_local_endpoints_total from the state just programmed: Service
     * ports with a Local policy whose traffic is dropped because this node has none of their endpoints while
     * other nodes do (the iptables proxier's "has no local endpoints" DROP, counted per policy).
     */
    public void programmed(ProxyState state) {
        int internal = 0;
        int external = 0;
        for (ResolvedService svc : state.services().values()) {
            if (!svc.hasAnyEndpoints() || !svc.localEndpoints().isEmpty()) {
                continue;
            }
            if (svc.port().internalPolicyLocal()) {
                internal++;
            }
            if (svc.port().usesExternalLocal()) {
                external++;
            }
        }
        noLocalInternal.set(internal);
        noLocalExternal.set(external);
    }

    public void failed() {
        syncFailures.increment();
    }
}
