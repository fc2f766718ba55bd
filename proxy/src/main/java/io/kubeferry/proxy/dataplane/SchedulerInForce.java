package io.kubeferry.proxy.dataplane;

import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The load-balancing algorithm a dataplane put in force for one Service port, and why: what {@code /debug/state}
 * and {@code render} show, so an operator sees what the Service got without reading rules. The dataplane decides
 * (it knows what it can express and whether the algorithm ran); the core only shows it.
 *
 * @param algorithm the algorithm's name, e.g. {@code maglev} or an IPVS scheduler
 * @param flags     its flags in force (empty when none)
 * @param why       how it came to be this one
 * @param reason    for {@link Why#FALLBACK}: why the Service did not get what it asked for; "" otherwise
 */
public record SchedulerInForce(String algorithm, Set<String> flags, Why why, String reason) {

    /** How the algorithm was picked. */
    public enum Why {

        /** The Service's {@code kube-ferry.io/scheduler} annotation asked for it. */
        ANNOTATION("annotation"),
        /** No annotation: the node's configured default ({@code --scheduler}, IPVS {@code ipvs.scheduler}). */
        NODE_DEFAULT("node-default"),
        /** No annotation and no usable node default: the mode's own default. */
        MODE_DEFAULT("mode-default"),
        /** The Service asked for something this node cannot give, or the algorithm failed: the default instead. */
        FALLBACK("fallback");

        private final String label;

        Why(String label) {
            this.label = label;
        }

        /** The word shown, e.g. {@code node-default}. */
        public String label() {
            return label;
        }
    }

    public SchedulerInForce {
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(why, "why");
        flags = Set.copyOf(flags);
        reason = reason == null ? "" : reason;
    }

    /** One line for people: {@code maglev (annotation)}, {@code random (fallback: scheduler "x" is not ...)}. */
    public String describe() {
        String shown = flags.isEmpty() ? algorithm : algorithm + " " + String.join(",", new TreeSet<>(flags));
        return shown + " (" + why.label() + (reason.isEmpty() ? "" : ": " + reason) + ")";
    }
}
