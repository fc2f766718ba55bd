package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.metrics.SyncMetrics;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-Service traffic visibility (kubernetes#9125): how many conntrack entries each Service has, as the gauge
 * {@code kubeferry_conntrack_service_entries{service="ns/name"}} for the {@value #TOP} Services with the most and
 * {@code service="other"} for the rest summed, so the label set stays bounded however many Services there are.
 * {@code kubeferry_conntrack_entries} is every entry listed.
 *
 * <p>Read once per period ({@code --conntrack-count-period}, default 1 m) on a thread of its own: one
 * {@code conntrack -L} (a netlink dump; the agent may program another namespace, whose /proc it cannot read), each
 * line matched to a Service by its original destination (ClusterIP, externalIP or LoadBalancer IP and port, or a
 * NodePort of a DNATed flow). The sync path never waits for it; a sync only hands it the state to match against.
 */
final class ServiceConntrackCounts implements ConntrackHook {

    static final int TOP = 20;
    static final String OTHER = "other";
    private static final Logger LOG = LoggerFactory.getLogger(ServiceConntrackCounts.class);

    private final ToolRunner tools;
    private final MultiGauge perService;
    private final AtomicLong total = new AtomicLong();
    private final Timer duration;
    private final Counter failures;
    private final ScheduledExecutorService timer;
    /** The last state of each family synced (copy on write: the hook's thread writes, the timer's reads). */
    private volatile Map<io.kubeferry.proxy.model.IpFamily, ProxyState> states = Map.of();
    private String lastFailure = "";

    ServiceConntrackCounts(ToolRunner tools, Duration period, MeterRegistry metrics) {
        this.tools = tools;
        this.perService = MultiGauge.builder("kubeferry.conntrack.service.entries")
                .description("Conntrack entries per Service, for the Services with the most (the rest summed as other)")
                .register(metrics);
        Gauge.builder("kubeferry.conntrack.entries", total, AtomicLong::get)
                .description("Conntrack entries listed at the last count").register(metrics);
        Duration[] buckets = Arrays.stream(SyncMetrics.exponentialBuckets())
                .mapToObj(seconds -> Duration.ofNanos(Math.round(seconds * 1e9))).toArray(Duration[]::new);
        this.duration = Timer.builder("kubeferry.conntrack.count.duration")
                .description("Latency in seconds of listing and counting the conntrack entries per Service")
                .serviceLevelObjectives(buckets).register(metrics);
        // The hook's failure counter (ConntrackHooks registers the same one): a failed count is this hook failing.
        this.failures = Counter.builder("kubeferry.conntrack.hook.failures").tag("hook", name())
                .description("Conntrack hook calls that failed or outlived their time limit").register(metrics);
        if (period.isZero()) {
            this.timer = null;
        } else {
            this.timer = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "kube-ferry-conntrack-counts");
                thread.setDaemon(true);
                return thread;
            });
            timer.scheduleWithFixedDelay(this::countSafely, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public String name() {
        return "service-counts";
    }

    /** Keeps the state to match flows against; the counting runs on the period, not here. */
    @Override
    public void afterSync(ConntrackChange change) {
        Map<io.kubeferry.proxy.model.IpFamily, ProxyState> next = new java.util.EnumMap<>(io.kubeferry.proxy.model.IpFamily.class);
        next.putAll(states);
        next.put(change.current().family(), change.current());
        states = java.util.Collections.unmodifiableMap(next);
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    private void countSafely() {
        Map<io.kubeferry.proxy.model.IpFamily, ProxyState> now = states;
        if (now.isEmpty()) {
            return;
        }
        try {
            count(now.values());
            lastFailure = "";
        } catch (ToolException | RuntimeException e) {
            // Caught whatever it is: an exception escaping a fixed-delay task would end every later count silently.
            failures.increment();
            // Once per distinct reason: a node without conntrack would otherwise log every period.
            String reason = String.valueOf(e.getMessage() == null ? e : e.getMessage());
            if (!reason.equals(lastFailure)) {
                LOG.warn("could not count conntrack entries per Service: {}", reason);
                lastFailure = reason;
            }
        }
    }

    /** One count of one family: list, match, publish. */
    void count(ProxyState now) throws ToolException {
        count(List.of(now));
    }

    /**
     * One count of every family synced: one listing per family ({@code conntrack -L}, {@code conntrack -L -f ipv6}),
     * the per-Service counts summed over them (a dual-stack Service's IPv4 and IPv6 flows are the same Service's).
     */
    void count(java.util.Collection<ProxyState> now) throws ToolException {
        long start = System.nanoTime();
        try {
            Map<String, Long> byService = new HashMap<>();
            long all = 0;
            for (ProxyState family : now) {
                ToolCommand list = ConntrackDelete.list(family.family());
                ToolResult listed = tools.runAllowingFailure(list);
                if (!listed.ok()) {
                    throw new ToolException(list.display() + " exited " + listed.exitCode() + ": " + listed.stderr().strip(), listed);
                }
                Counts one = Counts.of(family, listed.stdout());
                one.byService().forEach((service, n) -> byService.merge(service, n, Long::sum));
                all += one.total();
            }
            Counts counts = new Counts(Map.copyOf(byService), all);
            total.set(counts.total());
            perService.register(counts.top(TOP).entrySet().stream()
                    .map(e -> MultiGauge.Row.of(Tags.of("service", e.getKey()), e.getValue())).toList(), true);
        } finally {
            duration.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    /** Entries per Service ({@code ns/name}) and in all, from one listing. */
    record Counts(Map<String, Long> byService, long total) {

        static Counts of(ProxyState state, String listing) {
            Map<String, String> byAddress = new HashMap<>();
            // NodePorts by protocol too: a TCP and a UDP Service may hold the same NodePort number.
            Map<String, String> byNodePort = new HashMap<>();
            for (ResolvedService svc : state.services().values()) {
                ServicePort port = svc.port();
                String key = port.name().serviceKey();
                for (String address : ConntrackChanges.addresses(port)) {
                    if (address.startsWith(":")) {
                        byNodePort.put(port.protocol().lower() + " " + port.nodePort(), key);
                    } else {
                        byAddress.put(port.protocol().lower() + " " + address, key);
                    }
                }
            }
            Map<String, Long> counts = new HashMap<>();
            long total = 0;
            for (String line : listing.split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                total++;
                ConntrackEntry entry = ConntrackEntry.parse(line).orElse(null);
                if (entry == null) {
                    continue;
                }
                String service = byAddress.get(entry.protocol() + " " + entry.origDst() + ":" + entry.origDport());
                if (service == null && !entry.replySrc().equals(entry.origDst())) {
                    service = byNodePort.get(entry.protocol() + " " + entry.origDport());
                }
                if (service != null) {
                    counts.merge(service, 1L, Long::sum);
                }
            }
            return new Counts(Map.copyOf(counts), total);
        }

        /** The {@code n} Services with the most entries (ties by name), the rest summed under {@link #OTHER}. */
        Map<String, Long> top(int n) {
            List<Map.Entry<String, Long>> sorted = new ArrayList<>(byService.entrySet());
            sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
            Map<String, Long> top = new java.util.LinkedHashMap<>();
            long rest = 0;
            for (int i = 0; i < sorted.size(); i++) {
                if (i < n) {
                    top.put(sorted.get(i).getKey(), sorted.get(i).getValue());
                } else {
                    rest += sorted.get(i).getValue();
                }
            }
            if (sorted.size() > n) {
                top.put(OTHER, rest);
            }
            return top;
        }
    }
}
