package io.kubeferry.it.peer;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One quantity measured for both agents in the same run, on the same objects: a row of the comparison. Figures
 * of one {@code section} share a unit and are plotted together per cluster size ({@code services}).
 * {@code otherModes} holds the kube-ferry/kube-proxy ratio measured in a later mode (IPVS, nftables), keyed by
 * the report's mode column; a mode absent from it is shown as not run, with the report's reason.
 */
record Figure(String section, String unit, int services, String label, Measure kubeFerry, Measure kubeProxy,
        Optional<Target> target, Map<String, Double> otherModes) {

    Figure {
        otherModes = Map.copyOf(otherModes);
    }

    static Figure of(String section, String unit, int services, String label, Measure kubeFerry, Measure kubeProxy) {
        return new Figure(section, unit, services, label, kubeFerry, kubeProxy, Optional.empty(), Map.of());
    }

    Figure withTarget(Target t) {
        return new Figure(section, unit, services, label, kubeFerry, kubeProxy, Optional.of(t), otherModes);
    }

    /** kube-ferry / kube-proxy, when both were measured and kube-proxy's is not zero. */
    OptionalDouble ratio() {
        OptionalDouble kf = kubeFerry.value();
        OptionalDouble kp = kubeProxy.value();
        if (kf.isEmpty() || kp.isEmpty() || kp.getAsDouble() == 0) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(kf.getAsDouble() / kp.getAsDouble());
    }

    Optional<Boolean> targetMet() {
        return target.flatMap(t -> t.met(this));
    }
}
