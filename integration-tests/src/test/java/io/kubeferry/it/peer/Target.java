package io.kubeferry.it.peer;

import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A goal from the issue, reported beside the figure and never asserted: either on the kube-ferry/kube-proxy
 * ratio ("full sync at most 0.5x kube-proxy's") or on kube-ferry's own value (a figure that is itself a
 * ratio, such as the 10,000-over-1,000 Services change).
 */
record Target(String text, double max, boolean onRatio) {

    /** kube-ferry/kube-proxy at most {@code max}. */
    static Target ratioAtMost(double max) {
        return new Target("<= " + trim(max) + "x kube-proxy", max, true);
    }

    /** kube-ferry's value at most {@code max}, described by {@code text}. */
    static Target kubeFerryAtMost(double max, String text) {
        return new Target(text, max, false);
    }

    /** Met, missed, or unknown (a value is missing). */
    Optional<Boolean> met(Figure figure) {
        OptionalDouble subject = onRatio ? figure.ratio() : figure.kubeFerry().value();
        return subject.isPresent() ? Optional.of(subject.getAsDouble() <= max) : Optional.empty();
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
