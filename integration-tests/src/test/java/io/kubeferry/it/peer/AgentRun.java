package io.kubeferry.it.peer;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * What one agent measured in one run (one size, one flavour: a proxy mode, and for iptables mode its iptables
 * tools): the quantities it got to, and why it stopped if it failed. A quantity absent from {@code values} was
 * not measured in this run.
 */
record AgentRun(AgentProcess.Kind kind, Flavour flavour, int services, Map<Quantity, Double> values, Optional<String> failure) {

    /** What both agents program in a run: the proxy mode of the KubeProxyConfiguration, and the iptables tools. */
    enum Flavour {

        IPTABLES_LEGACY("iptables", AgentConfig.Backend.LEGACY), IPTABLES_NFT("iptables", AgentConfig.Backend.NFT),
        /** The iptables tools still matter to it: both agents clean up the other modes' rules at start. */
        NFTABLES("nftables", AgentConfig.Backend.NFT);

        private final String mode;
        private final AgentConfig.Backend backend;

        Flavour(String mode, AgentConfig.Backend backend) {
            this.mode = mode;
            this.backend = backend;
        }

        String mode() {
            return mode;
        }

        AgentConfig.Backend backend() {
            return backend;
        }

        /** iptables-legacy, iptables-nft, nftables: the report's row labels and the modes property's words. */
        String label() {
            return this == NFTABLES ? mode : mode + "-" + backend.variant();
        }

        static Flavour of(String label) {
            for (Flavour f : values()) {
                if (f.label().equals(label)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("no flavour " + label + " (iptables-legacy, iptables-nft, nftables)");
        }
    }

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
