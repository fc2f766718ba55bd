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
 * kube-proxy's run of the same size and flavour (iptables-legacy, iptables-nft, nftables), and carries the
 * issues' targets where it has them.
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
                        + "kubeproxy_sync_proxy_rules_last_timestamp_seconds set and one Service chain per Service: KUBE-SVC-... in iptables "
                        + "mode, service-... in nftables mode; when the first sync holds fewer, the kernel is polled until a later sync "
                        + "adds the rest), per flavour. nftables mode's goals (issue 12) at 10,000 Services: under 10 s and at most "
                        + "0.5x kube-proxy's nftables mode.",
                FIRST_SYNC, "The Services in the agent's first sync, as a share of all (Service chains in the kernel right after "
                        + "kubeproxy_sync_proxy_rules_last_timestamp_seconds is first set): below 100 % the agent synced before it had "
                        + "every EndpointSlice, so for a moment Services had no endpoints in the kernel.",
                OWN_SYNC,
                "Each agent's own kubeproxy_sync_proxy_rules_duration_seconds: the mean of its syncs until the rules were complete "
                        + "(histogram _sum over _count).",
                LATENCY, "With the agent converged and idle, one probe's EndpointSlice is moved to the other real pod; from the API write "
                        + "until that pod answers through the ClusterIP (the client namespace polls, one connection after another). "
                        + "Nearest-rank percentiles of the samples; the agent's own kubeproxy_network_programming_duration_seconds is "
                        + "the mean over the same changes (from the slices' last-change-trigger-time annotation). nftables mode's goal "
                        + "(issue 12): p99 under 50 ms at 10,000 Services.",
                SCALING, "The same one-Service change at the largest latency size over the smallest, per flavour and agent "
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

    /**
     * One row kind: which quantity, in which section, under which label and unit, with which target (per run:
     * issue 12's goals hold for nftables mode at 10,000 Services).
     */
    private record Row(Quantity quantity, String section, String unit, Function<AgentRun, String> label,
            Function<AgentRun, Optional<Target>> target) {
    }

    /** Issue 12's goals for nftables mode hold at this size (its "10,000 Services x 5 endpoints"). */
    static final int NFTABLES_GOAL_SERVICES = 10_000;

    private UpstreamFigures() {
    }

    static List<Figure> figures(List<AgentRun> runs, int idleSeconds) {
        Function<AgentRun, String> flavour = r -> r.flavour().label();
        List<Row> rows = List.of(
                new Row(Quantity.START_TO_RULES, FULL_SYNC, "s", flavour, r -> Optional.of(nftablesGoal(r, Target.ratioAtMost(0.5),
                        Target.kubeFerryAtMost(10, "kube-ferry's < 10 s")))),
                new Row(Quantity.OWN_SYNC, OWN_SYNC, "s", flavour, none()),
                new Row(Quantity.FIRST_SYNC_SERVICES, FIRST_SYNC, "%", flavour, none()),
                new Row(Quantity.LATENCY_P50, LATENCY, "ms", steady("p50"), none()),
                new Row(Quantity.LATENCY_P90, LATENCY, "ms", steady("p90"), none()),
                new Row(Quantity.LATENCY_P99, LATENCY, "ms", steady("p99"), r -> Optional.of(nftablesGoal(r, Target.ratioAtMost(0.1),
                        Target.kubeFerryAtMost(50, "kube-ferry's < 50 ms")))),
                new Row(Quantity.OWN_PROGRAMMING, LATENCY, "ms", steady("own metric, mean"), none()),
                new Row(Quantity.RSS, MEMORY, "MiB", steady("VmRSS"), r -> Optional.of(Target.ratioAtMost(1))),
                new Row(Quantity.CPU_TO_STEADY, CPU_START, "s", steady("agent process"), none()),
                new Row(Quantity.CPU_TO_STEADY_TOOLS, CPU_START, "s", steady("with the tools it ran"), none()),
                new Row(Quantity.CPU_IDLE, CPU_IDLE, "s", steady("agent process"), none()),
                new Row(Quantity.CPU_IDLE_TOOLS, CPU_IDLE, "s", steady("with the tools it ran"), none()),
                new Row(Quantity.RATE_CLUSTER_IP, DATA_PATH, "conn/s", steady("through a ClusterIP"), none()),
                new Row(Quantity.RATE_POD, DATA_PATH, "conn/s", steady("straight to the pod"), none()));
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
                        figures.add(row.target().apply(pair.kubeFerry()).map(f::withTarget).orElse(f));
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
            grouped.computeIfAbsent(run.services() + "/" + run.flavour(), k -> new LinkedHashMap<>()).put(run.kind(), run);
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
        return new AgentRun(kind, other.flavour(), other.services(), Map.of(), Optional.of("no run"));
    }

    private static Function<AgentRun, Optional<Target>> none() {
        return r -> Optional.empty();
    }

    /** A steady-state row's label: the figure, after the flavour (steady state is measured in more than one). */
    private static Function<AgentRun, String> steady(String figure) {
        return r -> r.flavour().label() + ", " + figure;
    }

    /** {@code always}, and for nftables mode at issue 12's size also its own goal. */
    private static Target nftablesGoal(AgentRun run, Target always, Target nftables) {
        return run.flavour() == AgentRun.Flavour.NFTABLES && run.services() >= NFTABLES_GOAL_SERVICES ? always.and(nftables) : always;
    }

    /** p50 and p99 of the largest latency size over the smallest, per flavour and agent (needs two sizes). */
    private static List<Figure> scaling(List<Pair> pairs) {
        Map<AgentRun.Flavour, List<Pair>> byFlavour = new LinkedHashMap<>();
        pairs.stream().filter(p -> p.kubeFerry().has(Quantity.LATENCY_P50) || p.kubeProxy().has(Quantity.LATENCY_P50))
                .forEach(p -> byFlavour.computeIfAbsent(p.kubeFerry().flavour(), f -> new ArrayList<>()).add(p));
        List<Figure> out = new ArrayList<>();
        byFlavour.forEach((flavour, measured) -> {
            if (measured.size() < 2) {
                return;
            }
            Pair small = measured.get(0);
            Pair large = measured.get(measured.size() - 1);
            for (Quantity q : List.of(Quantity.LATENCY_P50, Quantity.LATENCY_P99)) {
                String label = String.format(Locale.ROOT, "%s, %s, %,d over %,d Services", flavour.label(),
                        q == Quantity.LATENCY_P50 ? "p50" : "p99", large.services(), small.services());
                Figure f = Figure.of(SCALING, "x", large.services(), label,
                        over(large.kubeFerry().measure(q), small.kubeFerry().measure(q)),
                        over(large.kubeProxy().measure(q), small.kubeProxy().measure(q)));
                out.add(q == Quantity.LATENCY_P50 ? f.withTarget(Target.kubeFerryAtMost(2, "kube-ferry's <= 2x")) : f);
            }
        });
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
