package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.metrics.SyncMetrics;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Upstream's stale-UDP reconcile. UDP has no connection end, so a conntrack entry keeps sending a client's
 * packets to the endpoint it was first DNATed to, even after that endpoint is gone (DNS outages when
 * CoreDNS pods move). After each sync: list UDP flows, and delete those addressed to a Service IP:port or a
 * NodePort whose reply source is not a serving endpoint of that Service. That also clears flows cached while
 * a Service had no endpoints (their reply source is the Service IP itself). Stale flows are deleted by what
 * makes them stale, one {@code conntrack -D -p udp --orig-dst IP --dport PORT --reply-src GONE} per Service
 * address, port and gone reply source (one process for all the clients of a moved DNS pod, not one per flow);
 * that filter never matches a flow to a serving endpoint, so healthy flows are never touched. The deleted
 * count is what conntrack reports ("N flow entries have been deleted"), which includes flows that arrived
 * for the same gone endpoint after the listing.
 */
final class StaleUdpConntrack implements ConntrackHook {

    private static final Logger LOG = LoggerFactory.getLogger(StaleUdpConntrack.class);

    private final ToolRunner tools;
    private final MeterRegistry metrics;
    /** Per family, upstream's two reconciler metrics (IPv4's from the start, as before dual-stack; IPv6's when first used). */
    private final Map<IpFamily, Counter> deleted = new EnumMap<>(IpFamily.class);
    private final Map<IpFamily, Timer> duration = new EnumMap<>(IpFamily.class);
    /** The families whose last call failed: their next one reconciles whatever it is given (this hook's thread only). */
    private final Set<IpFamily> lastFailed = EnumSet.noneOf(IpFamily.class);

    StaleUdpConntrack(ToolRunner tools, MeterRegistry metrics) {
        this.tools = tools;
        this.metrics = metrics;
        register(IpFamily.IPv4);
    }

    /** Upstream's reconciler metrics, labelled with the family as upstream's per-family proxiers label them. */
    private void register(IpFamily family) {
        deleted.put(family, Counter.builder("kubeproxy.conntrack.reconciler.deleted.entries").tag("ip_family", family.apiName())
                .description("Cumulative conntrack flows deleted by conntrack reconciler").register(metrics));
        // Upstream's histogram and buckets (1 ms x 2^0..14); MetricsExposition drops the _max gauge Micrometer adds.
        Duration[] buckets = Arrays.stream(SyncMetrics.exponentialBuckets())
                .mapToObj(seconds -> Duration.ofNanos(Math.round(seconds * 1e9))).toArray(Duration[]::new);
        duration.put(family, Timer.builder("kubeproxy.conntrack.reconciler.sync.duration").tag("ip_family", family.apiName())
                .description("ReconcileConntrackFlowsLatency latency in seconds").serviceLevelObjectives(buckets).register(metrics));
    }

    @Override
    public String name() {
        return "stale-udp";
    }

    @Override
    public void afterSync(ConntrackChange change) throws ToolException {
        if (!hasUdp(change.current()) && !hasUdp(change.previous())) {
            return;
        }
        // A flow goes stale only when a UDP port or its endpoints change (one gone or no longer serving, or the first
        // one added while clients' packets were cached against the empty Service): other syncs need no listing,
        // which at 100,000 flows is the costly part. Full syncs and the retry after a failure reconcile anyway.
        boolean udpChanged = change.changed().stream().anyMatch(n -> n.protocol() == Protocol.UDP)
                || !change.changes().only(Protocol.UDP).isEmpty();
        IpFamily family = change.current().family();
        if (!change.full() && !lastFailed.contains(family) && !udpChanged) {
            return;
        }
        if (!deleted.containsKey(family)) {
            register(family);
        }
        long start = System.nanoTime();
        lastFailed.add(family);
        try {
            Targets targets = Targets.of(change.current());
            ToolCommand list = ConntrackDelete.list(family, "-p", "udp");
            ToolResult listed = tools.runAllowingFailure(list);
            if (!listed.ok()) {
                throw new ToolException(list.display() + " exited " + listed.exitCode() + ": " + listed.stderr().strip(), listed);
            }
            Map<StaleFlows, Integer> stale = new LinkedHashMap<>();
            for (String line : listed.stdout().split("\n")) {
                ConntrackEntry.parse(line).filter(e -> e.protocol().equals("udp")).filter(targets::isStale)
                        .ifPresent(e -> stale.merge(StaleFlows.of(e), 1, Integer::sum));
            }
            List<ConntrackDelete> deletes = new ArrayList<>();
            stale.forEach((flows, count) -> deletes.add(flows.delete(family, count)));
            long removed = ConntrackDelete.runAll(tools, deletes, "stale UDP", deleted.get(family));
            lastFailed.remove(family);
            if (removed > 0) {
                LOG.debug("deleted {} stale UDP flows in {} deletions", removed, deletes.size());
            }
        } finally {
            duration.get(family).record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    /** The flows one deletion removes: to one Service address and port, answered by one no-longer-serving source. */
    record StaleFlows(String origDst, int origDport, String replySrc) {

        static StaleFlows of(ConntrackEntry entry) {
            return new StaleFlows(entry.origDst(), entry.origDport(), entry.replySrc());
        }

        ConntrackDelete delete(IpFamily family, int listed) {
            List<String> filter = new ArrayList<>(ConntrackDelete.familyArgs(family));
            filter.addAll(List.of("-p", "udp", "--orig-dst", origDst, "--dport", String.valueOf(origDport), "--reply-src", replySrc));
            return new ConntrackDelete(filter, listed);
        }
    }

    private static boolean hasUdp(ProxyState state) {
        return state.services().keySet().stream().anyMatch(n -> n.protocol() == Protocol.UDP);
    }

    /** Service IP:port and NodePort -> the endpoint IPs a flow may legitimately be DNATed to. */
    record Targets(Map<String, Set<String>> byServiceAddress, Map<Integer, Set<String>> byNodePort) {

        static Targets of(ProxyState state) {
            Map<String, Set<String>> byAddress = new HashMap<>();
            Map<Integer, Set<String>> byNodePort = new HashMap<>();
            for (ResolvedService svc : state.services().values()) {
                ServicePort port = svc.port();
                if (port.protocol() != Protocol.UDP) {
                    continue;
                }
                Set<String> serving = new HashSet<>();
                for (Endpoint ep : svc.servingEndpoints()) {
                    serving.add(ep.ip());
                }
                List<String> ips = new ArrayList<>();
                ips.add(port.clusterIP());
                ips.addAll(port.externalIPs());
                ips.addAll(port.loadBalancerIPs());
                for (String ip : ips) {
                    byAddress.computeIfAbsent(ip + ":" + port.port(), k -> new HashSet<>()).addAll(serving);
                }
                if (port.nodePort() > 0) {
                    byNodePort.computeIfAbsent(port.nodePort(), k -> new HashSet<>()).addAll(serving);
                }
            }
            return new Targets(byAddress, byNodePort);
        }

        boolean isStale(ConntrackEntry entry) {
            Set<String> serving = byServiceAddress.get(entry.origDst() + ":" + entry.origDport());
            if (serving == null) {
                serving = byNodePort.get(entry.origDport());
            }
            return serving != null && !serving.contains(entry.replySrc());
        }
    }
}
