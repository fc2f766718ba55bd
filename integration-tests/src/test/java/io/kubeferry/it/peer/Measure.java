package io.kubeferry.it.peer;

import java.util.OptionalDouble;

/** One agent's value for one figure, or why there is none (not measured at this size, failed, mode absent). */
sealed interface Measure {

    record Value(double amount) implements Measure {
    }

    record Missing(String reason) implements Measure {

        public Missing {
            if (reason == null || reason.isBlank()) {
                throw new IllegalArgumentException("a missing figure needs its reason");
            }
        }
    }

    static Measure of(double value) {
        return new Value(value);
    }

    static Measure missing(String reason) {
        return new Missing(reason);
    }

    default OptionalDouble value() {
        return this instanceof Value v ? OptionalDouble.of(v.amount()) : OptionalDouble.empty();
    }
}
