package io.kubeferry.it.peer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A goal from the issues, reported beside the figure and never asserted: bounds on the kube-ferry/kube-proxy
 * ratio ("full sync at most 0.5x kube-proxy's") or on kube-ferry's own value (a figure that is itself a ratio,
 * such as the 10,000-over-1,000 Services change, or an absolute goal such as "under 10 s"), one or several that
 * must all hold ({@link #and}).
 */
record Target(String text, List<Bound> bounds) {

    /** One bound: the ratio, or kube-ferry's value, at most {@code max}. */
    record Bound(double max, boolean onRatio) {
    }

    Target {
        bounds = List.copyOf(bounds);
        if (bounds.isEmpty()) {
            throw new IllegalArgumentException("a target needs a bound: " + text);
        }
    }

    /** kube-ferry/kube-proxy at most {@code max}. */
    static Target ratioAtMost(double max) {
        return new Target("<= " + trim(max) + "x kube-proxy", List.of(new Bound(max, true)));
    }

    /** kube-ferry's value at most {@code max}, described by {@code text}. */
    static Target kubeFerryAtMost(double max, String text) {
        return new Target(text, List.of(new Bound(max, false)));
    }

    /** This and {@code other}: met when both are. */
    Target and(Target other) {
        List<Bound> both = new ArrayList<>(bounds);
        both.addAll(other.bounds);
        return new Target(text + " and " + other.text, both);
    }

    /** Met, missed (a bound known to be missed is enough), or unknown (a value is missing). */
    Optional<Boolean> met(Figure figure) {
        boolean unknown = false;
        for (Bound b : bounds) {
            OptionalDouble subject = b.onRatio() ? figure.ratio() : figure.kubeFerry().value();
            if (subject.isEmpty()) {
                unknown = true;
            } else if (subject.getAsDouble() > b.max()) {
                return Optional.of(false);
            }
        }
        return unknown ? Optional.empty() : Optional.of(true);
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
