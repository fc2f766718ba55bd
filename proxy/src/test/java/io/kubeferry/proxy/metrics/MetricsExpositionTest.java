package io.kubeferry.proxy.metrics;

import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.testing.UpstreamMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsExpositionTest {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final MetricsExposition exposition = new MetricsExposition(registry);

    @Test
    void aGaugeNamedTotalKeepsItsNameWhereThePlainScrapeStripsIt() {
        AtomicInteger rules = new AtomicInteger(42);
        Gauge.builder("kubeproxy.sync.proxy.rules.iptables.total", rules, AtomicInteger::get).tag("table", "nat")
                .description("Total number of iptables rules owned by kube-proxy").register(registry);
        assertTrue(registry.scrape().contains("kubeproxy_sync_proxy_rules_iptables{"), "what the library alone exposes");

        String text = exposition.scrape();
        assertTrue(text.contains("# TYPE kubeproxy_sync_proxy_rules_iptables_total gauge\n"), text);
        assertTrue(text.contains("kubeproxy_sync_proxy_rules_iptables_total{table=\"nat\"} 42.0\n"), text);
        assertFalse(text.contains("kubeproxy_sync_proxy_rules_iptables{"), "the stripped family is gone");
        assertEquals("gauge", UpstreamMetrics.parse(text).get("kubeproxy_sync_proxy_rules_iptables_total").type());
    }

    @Test
    void labelValuesAndHelpAreEscaped() {
        Gauge.builder("kubeferry.test.total", () -> 1).tag("name", "a\"b\\c\nd").description("line one\nline two")
                .register(registry);
        String text = exposition.scrape();
        assertTrue(text.contains("# HELP kubeferry_test_total line one\\nline two\n"), text);
        assertTrue(text.contains("kubeferry_test_total{name=\"a\\\"b\\\\c\\nd\"} 1.0\n"), text);
    }

    @Test
    void countersStayCountersAndTheMaxGaugeOfATimerIsDropped() {
        Counter.builder("kubeproxy.sync.proxy.rules.iptables.restore.failures").register(registry).increment();
        Timer.builder("kubeproxy.conntrack.reconciler.sync.duration").serviceLevelObjectives(Duration.ofMillis(1))
                .register(registry).record(Duration.ofMillis(3));
        Gauge.builder("kubeferry.queue.max", () -> 7).register(registry);
        String text = exposition.scrape();
        var families = UpstreamMetrics.parse(text);
        assertEquals("counter", families.get("kubeproxy_sync_proxy_rules_iptables_restore_failures_total").type());
        assertEquals("histogram", families.get("kubeproxy_conntrack_reconciler_sync_duration_seconds").type());
        assertFalse(families.containsKey("kubeproxy_conntrack_reconciler_sync_duration_seconds_max"), text);
        assertTrue(families.containsKey("kubeferry_queue_max"), "a gauge that is no histogram's sibling stays");
    }

    @Test
    void noLocalEndpointsCountsLocalPoliciesWithEndpointsOnlyElsewhere() {
        SyncMetrics metrics = new SyncMetrics(registry, true);
        metrics.programmed(state(
                // internal Local, the endpoint is on another node: counted (traffic is dropped here)
                port("default", "a", "", Protocol.TCP, "198.19.0.1", 80).internalLocal().resolve(endpoint("198.18.0.1", 80)),
                // external Local NodePort, no local endpoint: counted
                port("default", "b", "", Protocol.TCP, "198.19.0.2", 80).nodePort(30080).externalLocal(32000)
                        .resolve(endpoint("198.18.0.2", 80)),
                // external Local with a local endpoint: not counted
                port("default", "c", "", Protocol.TCP, "198.19.0.3", 80).nodePort(30081).externalLocal(32001)
                        .resolve(localEndpoint("198.18.0.3", 80)),
                // Local policy but no endpoints anywhere: upstream REJECTs it and does not count it
                port("default", "d", "", Protocol.TCP, "198.19.0.4", 80).internalLocal().resolve(),
                // Cluster policy: never counted
                port("default", "e", "", Protocol.TCP, "198.19.0.5", 80).resolve(endpoint("198.18.0.5", 80))));
        String text = exposition.scrape();
        assertEquals(1.0, UpstreamMetrics.value(text, "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "traffic_policy", "internal"));
        assertEquals(1.0, UpstreamMetrics.value(text, "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "traffic_policy", "external"));

        metrics.programmed(state());
        text = exposition.scrape();
        assertEquals(0.0, UpstreamMetrics.value(text, "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "traffic_policy", "internal"));
    }

    /** As upstream's MetaProxier: each family's syncs and no-local-endpoints counts are its own ip_family series. */
    @Test
    void eachFamilyTheNodeRunsHasItsOwnSeries() {
        SyncMetrics metrics = new SyncMetrics(registry, true, java.util.EnumSet.allOf(io.kubeferry.proxy.model.IpFamily.class));
        metrics.synced(io.kubeferry.proxy.model.IpFamily.IPv4, true, Duration.ofMillis(5));
        metrics.synced(io.kubeferry.proxy.model.IpFamily.IPv6, true, Duration.ofMillis(2));
        metrics.synced(io.kubeferry.proxy.model.IpFamily.IPv6, false, Duration.ofMillis(1));
        metrics.programmed(io.kubeferry.proxy.model.IpFamily.IPv6, state(
                port("default", "a", "", Protocol.TCP, "198.19.0.1", 80).internalLocal().resolve(endpoint("198.18.0.1", 80))));
        String text = exposition.scrape();
        assertEquals(1.0, UpstreamMetrics.value(text, "kubeproxy_sync_proxy_rules_duration_seconds_count", "ip_family", "IPv4"));
        assertEquals(2.0, UpstreamMetrics.value(text, "kubeproxy_sync_proxy_rules_duration_seconds_count", "ip_family", "IPv6"));
        assertEquals(1.0, UpstreamMetrics.value(text, "kubeproxy_sync_partial_proxy_rules_duration_seconds_count", "ip_family", "IPv6"));
        assertEquals(1.0, UpstreamMetrics.value(text, "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "ip_family", "IPv6",
                "traffic_policy", "internal"));
        assertEquals(0.0, UpstreamMetrics.value(text, "kubeproxy_sync_proxy_rules_no_local_endpoints_total", "ip_family", "IPv4",
                "traffic_policy", "internal"));
        assertTrue(text.contains("kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family=\"IPv6\"}"), text);
    }

    @Test
    void anIPv4NodeHasNoIPv6Series() {
        new SyncMetrics(registry, true).synced(true, Duration.ofMillis(5), List.of());
        assertFalse(exposition.scrape().contains("IPv6"));
    }

    @Test
    void histogramBucketsAreUpstreams() {
        double[] exponential = SyncMetrics.exponentialBuckets();
        assertEquals(15, exponential.length);
        assertEquals(0.001, exponential[0]);
        assertEquals(16.384, exponential[14], 1e-12);
        double[] programming = SyncMetrics.networkProgrammingBuckets();
        // MergeBuckets' leading 0, then 2 + 59 + 12 + 7 linear buckets.
        assertEquals(1 + 2 + 59 + 12 + 7, programming.length);
        assertEquals(0.0, programming[0]);
        assertEquals(0.25, programming[1]);
        assertEquals(59.0, programming[61]);
        assertEquals(60.0, programming[62]);
        assertEquals(115.0, programming[73]);
        assertEquals(120.0, programming[74]);
        assertEquals(300.0, programming[80]);
    }
}
