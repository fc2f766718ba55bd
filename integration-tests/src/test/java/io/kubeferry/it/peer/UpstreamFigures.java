package io.kubeferry.it.peer;

import io.kubeferry.it.peer.AgentRun.Quantity;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * From the agents' runs to the report's figures, section by section: each figure pairs kube-ferry's and
 * kube-proxy's run of the same size and iptables flavour, and carries the target where it has one.
 * Pure: the benchmark measures, this arranges.
 */
final class UpstreamFigures {

    static final String FULL_SYNC = "Full sync";
    static final String OWN_SYNC = "Full sync, the agent's own metric";
    static final String FIRST_SYNC = "Services in the first sync";
    static final String LATENCY = "Network programming latency";
    static final String SCALING = "One-Service change, large over small cluster";
    static final String MEMORY = "Resident memory";
    static final String CPU_START = "CPU seconds to steady state";
    static final String CPU_IDLE = "CPU seconds idle";
    static final String DATA_PATH = "Data path";

    /** What each section measures, written under its heading. */
    static Map<String, String> descriptions(int idleSeconds) {
        return Map.of(
                FULL_SYNC, "From the agent's process start until the kernel holds its complete ruleset (its "
                        + "kubeproxy_sync_proxy_rules_last_timestamp_seconds set and one KUBE-SVC chain per Service; when the first sync "
                        + "holds fewer, the kernel is polled until a later sync adds the rest), per iptables flavour.",
                FIRST_SYNC, "The Services in the agent's first sync, as a share of all (KUBE-SVC chains in the kernel right after "
                        + "kubeproxy_sync_proxy_rules_last_timestamp_seconds is first set): below 100 % the agent synced before it had "
                        + "every EndpointSlice, so for a moment Services had no endpoints in the kernel.",
                OWN_SYNC,
                "Each agent's own kubeproxy_sync_proxy_rules_duration_seconds: the mean of its syncs until the rules were complete "
                        + "(histogram _sum over _count).",
                LATENCY, "With the agent converged and idle, one probe's EndpointSlice is moved to the other real pod; from the API write "
                        + "until that pod answers through the ClusterIP (the client namespace polls, one connection after another). "
                        + "Nearest-rank percentiles of the samples; the agent's own kubeproxy_network_programming_duration_seconds is "
                        + "the mean over the same changes (from the slices' last-change-trigger-time annotation).",
                SCALING, "The same one-Service change at the largest latency size over the smallest, per agent "
                        + "(a ratio of latencies; the target is on kube-ferry's own ratio).",
                MEMORY, "VmRSS of the agent's process at steady state: after the first complete sync and a settling pause.",
                CPU_START, "CPU seconds (user + system, /proc/PID/stat) from process start to steady state: the agent's process, "
                        + "and with the netfilter tools it ran and waited for (cutime + cstime: iptables-restore and the like).",
                CPU_IDLE, "CPU seconds over " + idleSeconds + " s with nothing changing, at the largest size (periodic syncs "
                        + "included), the agent's process and with its tools.",
                DATA_PATH, "New TCP connections per second, one at a time from the client namespace (each set up, answered and "
                        + "reset), the best of a few rounds: through the probe Services' ClusterIPs, and straight to a pod (whose "
                        + "first packet still walks the nat table's KUBE-SERVICES chain). Bounded by the client and the echo server "
                        + "as much as by the rules: compare the two agents, not the two rows.");
    }

    /** One row kind: which quantity, in which section, under which label and unit, with which target. */
    private record Row(Quantity quantity, String section, String unit, Function<AgentRun, String> label, Optional<Target> target) {
    }

    private UpstreamFigures() {
    }

    static List<Figure> figures(List<AgentRun> runs, int idleSeconds) {
        Function<AgentRun, String> flavour = r -> "iptables-" + r.backend().variant();
        List<Row> rows = List.of(
                new Row(Quantity.START_TO_RULES, FULL_SYNC, "s", flavour, Optional.of(Target.ratioAtMost(0.5))),
                new Row(Quantity.OWN_SYNC, OWN_SYNC, "s", flavour, Optional.empty()),
                new Row(Quantity.FIRST_SYNC_SERVICES, FIRST_SYNC, "%", flavour, Optional.empty()),
                new Row(Quantity.LATENCY_P50, LATENCY, "ms", r -> "p50", Optional.empty()),
                new Row(Quantity.LATENCY_P90, LATENCY, "ms", r -> "p90", Optional.empty()),
                new Row(Quantity.LATENCY_P99, LATENCY, "ms", r -> "p99", Optional.of(Target.ratioAtMost(0.1))),
                new Row(Quantity.OWN_PROGRAMMING, LATENCY, "ms", r -> "own metric, mean", Optional.empty()),
                new Row(Quantity.RSS, MEMORY, "MiB", r -> "VmRSS", Optional.of(Target.ratioAtMost(1))),
                new Row(Quantity.CPU_TO_STEADY, CPU_START, "s", r -> "agent process", Optional.empty()),
                new Row(Quantity.CPU_TO_STEADY_TOOLS, CPU_START, "s", r -> "with the tools it ran", Optional.empty()),
                new Row(Quantity.CPU_IDLE, CPU_IDLE, "s", r -> "agent process", Optional.empty()),
                new Row(Quantity.CPU_IDLE_TOOLS, CPU_IDLE, "s", r -> "with the tools it ran", Optional.empty()),
                new Row(Quantity.RATE_CLUSTER_IP, DATA_PATH, "conn/s", r -> "through a ClusterIP", Optional.empty()),
                new Row(Quantity.RATE_POD, DATA_PATH, "conn/s", r -> "straight to the pod", Optional.empty()));
        List<Pair> pairs = pairs(runs);
        List<Figure> figures = new ArrayList<>();
        for (String section : List.of(FULL_SYNC, OWN_SYNC, FIRST_SYNC, LATENCY, SCALING, MEMORY, CPU_START, CPU_IDLE, DATA_PATH)) {
            if (section.equals(SCALING)) {
                figures.addAll(scaling(pairs));
                continue;
            }
            for (Pair pair : pairs) {
                for (Row row : rows) {
                    if (row.section().equals(section) && (pair.kubeFerry().has(row.quantity()) || pair.kubeProxy().has(row.quantity()))) {
                        Figure f = Figure.of(section, row.unit(), pair.services(), row.label().apply(pair.kubeFerry()),
                                pair.kubeFerry().measure(row.quantity()), pair.kubeProxy().measure(row.quantity()));
                        figures.add(row.target().map(f::withTarget).orElse(f));
                    }
                }
            }
        }
        return figures;
    }

    /** kube-ferry's and kube-proxy's runs of one size and flavour; a missing run stands as a failed one. */
    private record Pair(int services, AgentRun kubeFerry, AgentRun kubeProxy) {
    }

    private static List<Pair> pairs(List<AgentRun> runs) {
        Map<String, Map<AgentProcess.Kind, AgentRun>> grouped = new LinkedHashMap<>();
        for (AgentRun run : runs) {
            grouped.computeIfAbsent(run.services() + "/" + run.backend(), k -> new LinkedHashMap<>()).put(run.kind(), run);
        }
        List<Pair> pairs = new ArrayList<>();
        for (Map<AgentProcess.Kind, AgentRun> group : grouped.values()) {
            AgentRun any = group.values().iterator().next();
            pairs.add(new Pair(any.services(), group.getOrDefault(AgentProcess.Kind.KUBE_FERRY, absent(AgentProcess.Kind.KUBE_FERRY, any)),
                    group.getOrDefault(AgentProcess.Kind.KUBE_PROXY, absent(AgentProcess.Kind.KUBE_PROXY, any))));
        }
        return pairs;
    }

    private static AgentRun absent(AgentProcess.Kind kind, AgentRun other) {
        return new AgentRun(kind, other.backend(), other.services(), Map.of(), Optional.of("no run"));
    }

    /** p50 and p99 of the largest latency size over the smallest, per agent (needs two sizes). */
    private static List<Figure> scaling(List<Pair> pairs) {
        List<Pair> measured = pairs.stream().filter(p -> p.kubeFerry().has(Quantity.LATENCY_P50) || p.kubeProxy().has(Quantity.LATENCY_P50))
                .toList();
        if (measured.size() < 2) {
            return List.of();
        }
        Pair small = measured.get(0);
        Pair large = measured.get(measured.size() - 1);
        List<Figure> out = new ArrayList<>();
        for (Quantity q : List.of(Quantity.LATENCY_P50, Quantity.LATENCY_P99)) {
            String label = String.format(Locale.ROOT, "%s, %,d over %,d Services", q == Quantity.LATENCY_P50 ? "p50" : "p99",
                    large.services(), small.services());
            Figure f = Figure.of(SCALING, "x", large.services(), label, over(large.kubeFerry().measure(q), small.kubeFerry().measure(q)),
                    over(large.kubeProxy().measure(q), small.kubeProxy().measure(q)));
            out.add(q == Quantity.LATENCY_P50 ? f.withTarget(Target.kubeFerryAtMost(2, "kube-ferry's <= 2x")) : f);
        }
        return out;
    }

    private static Measure over(Measure a, Measure b) {
        if (a instanceof Measure.Missing) {
            return a;
        }
        if (b instanceof Measure.Missing) {
            return b;
        }
        double denominator = b.value().getAsDouble();
        return denominator == 0 ? Measure.missing("zero latency at the smaller size") : Measure.of(a.value().getAsDouble() / denominator);
    }
}
