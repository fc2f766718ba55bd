package io.kubeferry.it;

import java.util.List;

/**
 * Benchmark sizes. The test run (and CI) uses the small sizes so benchmarks cannot rot and stay inside the
 * CI budget; {@code -Dkube-ferry.benchmark=full} (the documented benchmark command) uses the full ones.
 */
public final class BenchmarkScale {

    public static final String PROPERTY = "kube-ferry.benchmark";

    private BenchmarkScale() {
    }

    /** True when the full-size benchmark run was asked for. */
    public static boolean full() {
        return "full".equals(System.getProperty(PROPERTY, "small"));
    }

    /** {@code small} in the test run, {@code full} in the benchmark run. */
    public static <T> List<T> pick(List<T> small, List<T> full) {
        return full() ? full : small;
    }

    /** The name of the current scale, for table headings. */
    public static String name() {
        return full() ? "full" : "small (CI)";
    }
}
