package io.kubeferry.proxy.health;

import io.kubeferry.proxy.metrics.SyncMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProxyHealthTest {

    @Test
    void unhealthyOnlyWhenAQueuedSyncWaitedTooLong() {
        AtomicLong queued = new AtomicLong();
        ProxyHealth health = new ProxyHealth(Duration.ofSeconds(60), queued::get);
        Instant now = Instant.now();
        assertEquals(200, health.healthz(now).status(), "nothing queued");
        queued.set(now.toEpochMilli() - 30_000);
        assertEquals(200, health.healthz(now).status(), "queued, but within the timeout");
        queued.set(now.toEpochMilli() - 61_000);
        assertEquals(503, health.healthz(now).status());
        assertEquals(503, health.livez(now).status());
        assertTrue(health.healthz(now).body().contains("\"lastUpdated\""));
    }

    @Test
    void aNodeBeingDeletedFailsHealthzButNotLivez() {
        ProxyHealth health = new ProxyHealth(Duration.ofSeconds(60), () -> 0);
        health.nodeEligible(false);
        Instant now = Instant.now();
        assertEquals(503, health.healthz(now).status());
        assertTrue(health.healthz(now).body().contains("\"nodeEligible\":false"));
        assertEquals(200, health.livez(now).status());
    }

    @Test
    void metricsCarryUpstreamNames() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        SyncMetrics metrics = new SyncMetrics(registry, true);
        metrics.queued();
        metrics.synced(true, Duration.ofMillis(12), List.of(Instant.now().minusSeconds(2)));
        metrics.synced(false, Duration.ofMillis(3), List.of());
        Counter.builder("kubeproxy.proxy.healthz").tag("code", "200").register(registry).increment();
        String scrape = registry.scrape();
        for (String name : List.of("kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.001\"}",
                "kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family=\"IPv4\"} 1",
                "kubeproxy_sync_partial_proxy_rules_duration_seconds_count{ip_family=\"IPv4\"} 1",
                "kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.0\"} 0",
                "kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.25\"}",
                "kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\",le=\"300.0\"} 1",
                "kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family=\"IPv4\"} ",
                "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds{ip_family=\"IPv4\"} ",
                "kubeproxy_proxy_healthz_total{code=\"200\"} 1")) {
            assertTrue(scrape.contains(name), "scrape lacks " + name + "\n" + scrape);
        }
        assertTrue(scrape.contains("kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family=\"IPv4\",le=\"16.384\"}"),
                "upstream's 1ms x 2^14 top bucket");
    }
}
