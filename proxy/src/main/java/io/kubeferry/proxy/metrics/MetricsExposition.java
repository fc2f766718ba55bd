package io.kubeferry.proxy.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The /metrics body (Prometheus text format 0.0.4) under kube-proxy's exact names. Two things in the
 * Micrometer / client_java 1.x stack keep a plain scrape from matching upstream, and are put right here:
 * <ul>
 *   <li>Gauges whose upstream name ends in {@code _total} ({@code kubeproxy_sync_proxy_rules_iptables_total},
 *       {@code ..._no_local_endpoints_total}): client_java reserves that suffix for counters, strips it
 *       ({@code PrometheusNaming.sanitizeMetricName}) and cannot even hold such a gauge in a snapshot
 *       ({@code MetricMetadata} rejects the name). So every Micrometer gauge named {@code *.total} is left out
 *       of the client_java output and written here under its exact name.</li>
 *   <li>Micrometer adds a {@code <name>_max} gauge beside every Timer; upstream's histograms have none, so the
 *       {@code _max} family of each histogram is left out.</li>
 * </ul>
 * Everything else (counters, gauges, histograms, the JVM and process collectors) is written by client_java's
 * own text writer.
 */
public final class MetricsExposition {

    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String TOTAL = ".total";

    private final PrometheusMeterRegistry registry;
    private final PrometheusTextFormatWriter writer = new PrometheusTextFormatWriter(false);

    public MetricsExposition(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    public String scrape() {
        Map<String, List<Gauge>> totalGauges = totalGauges();
        Set<String> hidden = new HashSet<>();
        for (String name : totalGauges.keySet()) {
            hidden.add(PrometheusNaming.sanitizeMetricName(name));
        }
        MetricSnapshots all = registry.getPrometheusRegistry().scrape();
        for (MetricSnapshot snapshot : all) {
            if (snapshot instanceof HistogramSnapshot) {
                hidden.add(snapshot.getMetadata().getPrometheusName() + "_max");
            }
        }
        List<MetricSnapshot> kept = new ArrayList<>();
        for (MetricSnapshot snapshot : all) {
            boolean micrometerArtefact = hidden.contains(snapshot.getMetadata().getPrometheusName())
                    && snapshot instanceof GaugeSnapshot;
            if (!micrometerArtefact) {
                kept.add(snapshot);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writer.write(out, new MetricSnapshots(kept));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        StringBuilder text = new StringBuilder(out.toString(StandardCharsets.UTF_8));
        totalGauges.forEach((name, gauges) -> writeGauge(text, name, gauges));
        return text.toString();
    }

    /** Micrometer gauges named {@code *.total}, by exact Prometheus name (dots become underscores). */
    private Map<String, List<Gauge>> totalGauges() {
        Map<String, List<Gauge>> byName = new TreeMap<>();
        for (Meter meter : registry.getMeters()) {
            if (meter instanceof Gauge gauge && meter.getId().getName().endsWith(TOTAL)) {
                byName.computeIfAbsent(meter.getId().getName().replace('.', '_'), k -> new ArrayList<>()).add(gauge);
            }
        }
        return byName;
    }

    private static void writeGauge(StringBuilder text, String name, List<Gauge> gauges) {
        String help = gauges.get(0).getId().getDescription();
        if (help != null) {
            text.append("# HELP ").append(name).append(' ').append(escapeHelp(help)).append('\n');
        }
        text.append("# TYPE ").append(name).append(" gauge\n");
        List<String> samples = new ArrayList<>();
        for (Gauge gauge : gauges) {
            StringBuilder sample = new StringBuilder(name);
            List<Tag> tags = gauge.getId().getTags();
            if (!tags.isEmpty()) {
                sample.append('{');
                for (int i = 0; i < tags.size(); i++) {
                    sample.append(i == 0 ? "" : ",").append(tags.get(i).getKey()).append("=\"")
                            .append(escapeLabel(tags.get(i).getValue())).append('"');
                }
                sample.append('}');
            }
            samples.add(sample.append(' ').append(value(gauge.value())).append('\n').toString());
        }
        samples.stream().sorted().forEach(text::append);
    }

    private static String value(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        return Double.toString(v);
    }

    private static String escapeHelp(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }

    private static String escapeLabel(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
