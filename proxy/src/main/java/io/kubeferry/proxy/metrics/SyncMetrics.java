package io.kubeferry.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sync metrics, under upstream kube-proxy's names and buckets so existing dashboards and alerts work
 * unchanged (kubeproxy_sync_proxy_rules_duration_seconds and friends).
 */
public final class SyncMetrics {

    private final Timer syncDuration;
    private final Timer fullSyncDuration;
    private final Timer partialSyncDuration;
    private final Timer networkProgramming;
    private final Counter syncFailures;
    private final AtomicLong lastSyncMillis = new AtomicLong();
    private final AtomicLong lastQueuedMillis = new AtomicLong();

    public SyncMetrics(MeterRegistry registry) {
        Duration[] exponential = new Duration[15];
        for (int i = 0; i < exponential.length; i++) {
            exponential[i] = Duration.ofNanos(1_000_000L << i);
        }
        syncDuration = timer(registry, "kubeproxy.sync.proxy.rules.duration", "SyncProxyRules latency", exponential);
        fullSyncDuration = timer(registry, "kubeproxy.sync.full.proxy.rules.duration", "Full SyncProxyRules latency", exponential);
        partialSyncDuration = timer(registry, "kubeproxy.sync.partial.proxy.rules.duration", "Partial SyncProxyRules latency", exponential);
        networkProgramming = timer(registry, "kubeproxy.network.programming.duration",
                "In Cluster Network Programming Latency", networkProgrammingBuckets());
        syncFailures = Counter.builder("kubeferry.sync.failures").description("Syncs that failed to apply")
                .register(registry);
        Gauge.builder("kubeproxy.sync.proxy.rules.last.timestamp", lastSyncMillis, v -> v.get() / 1000.0).baseUnit("seconds")
                .description("The last time proxy rules were successfully synced").register(registry);
        Gauge.builder("kubeproxy.sync.proxy.rules.last.queued.timestamp", lastQueuedMillis, v -> v.get() / 1000.0).baseUnit("seconds")
                .description("The last time a sync of proxy rules was queued").register(registry);
    }

    private static Timer timer(MeterRegistry registry, String name, String description, Duration[] buckets) {
        return Timer.builder(name).description(description).serviceLevelObjectives(buckets)
                .minimumExpectedValue(buckets[0]).maximumExpectedValue(buckets[buckets.length - 1]).register(registry);
    }

    /** Upstream's buckets: 0.25 s, 0.5 s, 1..59 s, 60..115 s by 5, 120..270 s by 30. */
    private static Duration[] networkProgrammingBuckets() {
        List<Duration> buckets = new ArrayList<>(List.of(Duration.ofMillis(250), Duration.ofMillis(500)));
        for (int s = 1; s < 60; s++) {
            buckets.add(Duration.ofSeconds(s));
        }
        for (int s = 60; s < 120; s += 5) {
            buckets.add(Duration.ofSeconds(s));
        }
        for (int s = 120; s < 300; s += 30) {
            buckets.add(Duration.ofSeconds(s));
        }
        return buckets.toArray(Duration[]::new);
    }

    public void queued() {
        lastQueuedMillis.set(System.currentTimeMillis());
    }

    public void synced(boolean full, Duration took, List<Instant> triggers) {
        syncDuration.record(took);
        (full ? fullSyncDuration : partialSyncDuration).record(took);
        Instant now = Instant.now();
        lastSyncMillis.set(now.toEpochMilli());
        for (Instant trigger : triggers) {
            Duration latency = Duration.between(trigger, now);
            if (!latency.isNegative()) {
                networkProgramming.record(latency);
            }
        }
    }

    public void failed() {
        syncFailures.increment();
    }
}
