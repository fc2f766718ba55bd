package io.kubeferry.proxy.dataplane;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What one mode's cleanup actually did: how many kernel objects of each kind it removed, and each step it
 * could not do. Only what a tool confirmed is counted, so the log never claims a removal that did not happen.
 *
 * @param mode     the mode cleaned, e.g. {@code ipvs}
 * @param removed  counts by kind ({@link #CHAINS}, {@link #RULES}, ...), in the order first counted; no zeros
 * @param failures one message per step that failed; empty when everything went well
 */
public record CleanupReport(String mode, Map<String, Integer> removed, List<String> failures) {

    public static final String CHAINS = "chains";
    public static final String RULES = "rules";
    public static final String VIRTUAL_SERVERS = "virtual servers";
    public static final String IPSETS = "ipsets";
    public static final String ADDRESSES = "addresses";
    public static final String INTERFACES = "interfaces";

    public CleanupReport {
        Objects.requireNonNull(mode, "mode");
        Map<String, Integer> counts = new LinkedHashMap<>();
        removed.forEach((kind, n) -> {
            if (n < 0) {
                throw new IllegalArgumentException(kind + ": negative count " + n);
            }
            if (n > 0) {
                counts.put(kind, n);
            }
        });
        removed = Collections.unmodifiableMap(counts);
        failures = List.copyOf(failures);
    }

    /** A report of nothing done yet. */
    public static CleanupReport of(String mode) {
        return new CleanupReport(mode, Map.of(), List.of());
    }

    /** This report with {@code count} more of {@code kind} removed. */
    public CleanupReport plus(String kind, int count) {
        if (count == 0) {
            return this;
        }
        Map<String, Integer> counts = new LinkedHashMap<>(removed);
        counts.merge(kind, count, Integer::sum);
        return new CleanupReport(mode, counts, failures);
    }

    /** This report with one more failed step. */
    public CleanupReport failed(String failure) {
        List<String> all = new ArrayList<>(failures);
        all.add(failure);
        return new CleanupReport(mode, removed, all);
    }

    /** The counts and failures of both, under this report's mode. */
    public CleanupReport plus(CleanupReport other) {
        CleanupReport sum = this;
        for (Map.Entry<String, Integer> e : other.removed.entrySet()) {
            sum = sum.plus(e.getKey(), e.getValue());
        }
        for (String failure : other.failures) {
            sum = sum.failed(failure);
        }
        return sum;
    }

    public boolean ok() {
        return failures.isEmpty();
    }

    public int count(String kind) {
        return removed.getOrDefault(kind, 0);
    }

    /**
     * One line for the log and the cleanup command: {@code ipvs mode: removed 3 chains, 2 virtual servers},
     * {@code iptables mode: nothing to remove}, or with {@code ; failed: ...} appended.
     */
    public String summary() {
        return removals() + (failures.isEmpty() ? "" : "; failed: " + String.join("; ", failures));
    }

    /**
     * {@link #removals()} of one family's instance: IPv4's as before dual-stack, another family's named after the mode
     * ({@code iptables mode (IPv6): removed 4 chains}).
     */
    public String removals(io.kubeferry.proxy.model.IpFamily family) {
        String all = removals();
        return family == io.kubeferry.proxy.model.IpFamily.IPv4
                ? all
                : mode + " mode (" + family + ")" + all.substring((mode + " mode").length());
    }

    /** The summary without the failures: {@code ipvs mode: removed 2 virtual servers}. */
    public String removals() {
        String done;
        if (removed.isEmpty()) {
            done = failures.isEmpty() ? "nothing to remove" : "removed nothing";
        } else {
            done = "removed " + removed.entrySet().stream().map(e -> e.getValue() + " " + noun(e.getKey(), e.getValue()))
                    .collect(Collectors.joining(", "));
        }
        return mode + " mode: " + done;
    }

    private static String noun(String kind, int count) {
        if (count != 1) {
            return kind;
        }
        return kind.endsWith("sses") ? kind.substring(0, kind.length() - 2) : kind.substring(0, kind.length() - 1);
    }
}
