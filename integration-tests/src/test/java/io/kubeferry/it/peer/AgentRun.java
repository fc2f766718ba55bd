package io.kubeferry.it.peer;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * What one agent measured in one run (one size, one iptables flavour): the quantities it got to, and why it
 * stopped if it failed. A quantity absent from {@code values} was not measured in this run.
 */
record AgentRun(AgentProcess.Kind kind, AgentConfig.Backend backend, int services, Map<Quantity, Double> values, Optional<String> failure) {

    /** The quantities a run can measure. */
    enum Quantity {
        FIRST_SYNC_SERVICES, START_TO_RULES, OWN_SYNC, LATENCY_P50, LATENCY_P90, LATENCY_P99, OWN_PROGRAMMING, RSS, CPU_TO_STEADY, CPU_TO_STEADY_TOOLS, CPU_IDLE, CPU_IDLE_TOOLS, RATE_CLUSTER_IP, RATE_POD
    }

    AgentRun {
        values = values.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(values));
    }

    boolean has(Quantity q) {
        return values.containsKey(q);
    }

    /** The value, or why there is none. */
    Measure measure(Quantity q) {
        Double v = values.get(q);
        if (v != null && !v.isNaN()) {
            return Measure.of(v);
        }
        if (v != null) {
            return Measure.missing(kind.label() + " did not report it");
        }
        return Measure.missing(failure.map(f -> kind.label() + " run failed: " + f).orElse("not measured in " + kind.label() + "'s run"));
    }
}
