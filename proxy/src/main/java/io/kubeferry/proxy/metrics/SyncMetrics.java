package io.kubeferry.proxy.metrics;

import io.kubeferry.proxy.model.IpFamily;
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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sync metrics, under upstream kube-proxy's names, types, labels and buckets (k/k pkg/proxy/metrics,
 * v1.35) so existing dashboards and alerts work unchanged. As upstream's MetaProxier, each IP family the node runs
 * has its own series of every metric upstream labels {@code ip_family} (sync durations, last sync and last queued
 * timestamps, network programming latency, no-local-endpoints counts); the unlabelled ones are the node's. The
 * histograms are client_java's own, registered in the Prometheus registry beneath Micrometer: Micrometer's Timer
 * refuses upstream's 0 bucket and adds a {@code _max} gauge upstream does not have.
 */
public final class SyncMetrics {

    /**
     * The IPv4 value of upstream's ip_family label: for the IPv4-only metrics of dataplanes that do not yet label
     * by their own family ({@code context.family().apiName()}).
     */
    public static final String IP_FAMILY = "IPv4";

    /** One family's series. */
    private static final class Series {

        final DistributionDataPoint syncDuration;
        final DistributionDataPoint fullSyncDuration;
        final DistributionDataPoint partialSyncDuration;
        final DistributionDataPoint networkProgramming;
        final AtomicLong lastSyncMillis = new AtomicLong();
        final AtomicInteger noLocalInternal = new AtomicInteger();
        final AtomicInteger noLocalExternal = new AtomicInteger();

        Series(Histograms histograms, String family) {
            syncDuration = histograms.sync.labelValues(family);
            fullSyncDuration = histograms.full == null ? null : histograms.full.labelValues(family);
            partialSyncDuration = histograms.partial == null ? null : histograms.partial.labelValues(family);
            networkProgramming = histograms.programming.labelValues(family);
        }
    }

    private record Histograms(Histogram sync, Histogram full, Histogram partial, Histogram programming) {
    }

    private final Map<IpFamily, Series> series = new EnumMap<>(IpFamily.class);
    private final Counter syncFailures;
    private final AtomicLong lastQueuedMillis = new AtomicLong();

    /** An IPv4 node's metrics. */
    public SyncMetrics(PrometheusMeterRegistry registry, boolean partialSyncs) {
        this(registry, partialSyncs, Set.of(IpFamily.IPv4));
    }

    /**
     * @param partialSyncs whether the mode tells full from partial syncs (upstream registers the
     *                     full/partial duration histograms in iptables and nftables mode only)
     * @param families     the IP families the node runs: each gets its series
     */
    public SyncMetrics(PrometheusMeterRegistry registry, boolean partialSyncs, Set<IpFamily> families) {
        PrometheusRegistry prometheus = registry.getPrometheusRegistry();
        double[] exponential = exponentialBuckets();
        Histograms histograms = new Histograms(
                histogram(prometheus, "kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds", exponential),
                partialSyncs
                        ? histogram(prometheus, "kubeproxy_sync_full_proxy_rules_duration_seconds",
                                "SyncProxyRules latency in seconds for full resyncs", exponential)
                        : null,
                partialSyncs
                        ? histogram(prometheus, "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                                "SyncProxyRules latency in seconds for partial resyncs", exponential)
                        : null,
                histogram(prometheus, "kubeproxy_network_programming_duration_seconds", "In Cluster Network Programming Latency in seconds",
                        networkProgrammingBuckets()));
        syncFailures = Counter.builder("kubeferry.sync.failures").description("Syncs that failed to apply")
                .register(registry);
        for (IpFamily family : IpFamily.values()) {
            if (!families.contains(family)) {
                continue;
            }
            Series s = new Series(histograms, family.apiName());
            series.put(family, s);
            Gauge.builder("kubeproxy.sync.proxy.rules.last.timestamp", s.lastSyncMillis, v -> v.get() / 1000.0).baseUnit("seconds")
                    .tag("ip_family", family.apiName()).description("The last time proxy rules were successfully synced")
                    .register(registry);
            // Upstream's QueuedUpdate sets it for every family at once: one queue feeds them all.
            Gauge.builder("kubeproxy.sync.proxy.rules.last.queued.timestamp", lastQueuedMillis, v -> v.get() / 1000.0).baseUnit("seconds")
                    .tag("ip_family", family.apiName()).description("The last time a sync of proxy rules was queued").register(registry);
            // A gauge whose name ends in _total, as upstream's: MetricsExposition writes it under that name.
            noLocalEndpoints(registry, family, "internal", s.noLocalInternal);
            noLocalEndpoints(registry, family, "external", s.noLocalExternal);
        }
    }

    /** A gauge whose name ends in _total, as upstream's: MetricsExposition writes it under that exact name. */
    private static void noLocalEndpoints(MeterRegistry registry, IpFamily family, String trafficPolicy, AtomicInteger count) {
        Gauge.builder("kubeproxy.sync.proxy.rules.no.local.endpoints.total", count, AtomicInteger::get)
                .tag("ip_family", family.apiName()).tag("traffic_policy", trafficPolicy)
                .description("Number of services with a Local traffic policy and no endpoints").register(registry);
    }

    private static Histogram histogram(PrometheusRegistry registry, String name, String help, double[] buckets) {
        return Histogram.builder().name(name).help(help).labelNames("ip_family").classicOnly().withoutExemplars()
                .classicUpperBounds(buckets).register(registry);
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

    /** An IPv4 sync (single-stack callers): its duration and the changes it programmed. */
    public void synced(boolean full, Duration took, List<Instant> triggers) {
        synced(IpFamily.IPv4, full, took);
        programmedChanges(IpFamily.IPv4, triggers);
    }

    /** One family's successful sync and how long it took. */
    public void synced(IpFamily family, boolean full, Duration took) {
        Series s = series.get(family);
        double seconds = took.toNanos() / 1e9;
        s.syncDuration.observe(seconds);
        DistributionDataPoint byKind = full ? s.fullSyncDuration : s.partialSyncDuration;
        if (byKind != null) {
            byKind.observe(seconds);
        }
        s.lastSyncMillis.set(System.currentTimeMillis());
    }

    /**
     * The network programming latency of the changes a sync programmed (their trigger times), recorded under
     * {@code family}: the agent passes one family for the whole sync, so a change is counted once, not once per family.
     */
    public void programmedChanges(IpFamily family, List<Instant> triggers) {
        Series s = series.get(family);
        Instant now = Instant.now();
        for (Instant trigger : triggers) {
            Duration latency = Duration.between(trigger, now);
            if (!latency.isNegative()) {
                s.networkProgramming.observe(latency.toNanos() / 1e9);
            }
        }
    }

    /** {@link #programmed(IpFamily, ProxyState)} for the state's own family. */
    public void programmed(ProxyState state) {
        programmed(state.family(), state);
    }

    /**
     * Recounts upstream's sync_proxy_rules_no_local_endpoints_total from the state just programmed for {@code family}:
     * Service ports with a Local policy whose traffic is dropped because this node has none of their endpoints while
     * other nodes do (the iptables proxier's "has no local endpoints" DROP, counted per policy).
     */
    public void programmed(IpFamily family, ProxyState state) {
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
        Series s = series.get(family);
        s.noLocalInternal.set(internal);
        s.noLocalExternal.set(external);
    }

    public void failed() {
        syncFailures.increment();
    }
}
