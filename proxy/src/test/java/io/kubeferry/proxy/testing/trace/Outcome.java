package io.kubeferry.proxy.testing.trace;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Everything that can happen to one packet, in mode-neutral terms: the set of its possible path ends (e.g.
 * DNAT to either of two endpoints, each masqueraded). Two dataplanes behave the same for a packet when their
 * outcomes are equal.
 */
public record Outcome(SortedSet<PathEnd> ends) {

    public Outcome {
        if (ends.isEmpty()) {
            throw new IllegalArgumentException("an outcome has at least one path end");
        }
        ends = Collections.unmodifiableSortedSet(new TreeSet<>(ends));
    }

    public static Outcome of(PathEnd... ends) {
        return new Outcome(new TreeSet<>(List.of(ends)));
    }

    /** Sent on to any of {@code endpoints} ({@code ip:port}), each masqueraded or not. */
    public static Outcome dnat(boolean masqueraded, String... endpoints) {
        List<PathEnd> ends = new ArrayList<>();
        for (String e : endpoints) {
            ends.add(new PathEnd(PathEnd.Kind.DNAT, e, masqueraded, 0));
        }
        return new Outcome(new TreeSet<>(ends));
    }

    public static PathEnd to(String endpoint, boolean masqueraded) {
        return new PathEnd(PathEnd.Kind.DNAT, endpoint, masqueraded, 0);
    }

    public static Outcome reject() {
        return of(new PathEnd(PathEnd.Kind.REJECT, "", false, 0));
    }

    public static Outcome drop() {
        return of(new PathEnd(PathEnd.Kind.DROP, "", false, 0));
    }

    public static Outcome accept() {
        return of(new PathEnd(PathEnd.Kind.ACCEPT, "", false, 0));
    }

    public static Outcome untouched() {
        return untouched(false);
    }

    /** No rule decided anything, but the packet was marked for masquerading on its way out. */
    public static Outcome untouched(boolean masqueraded) {
        return of(new PathEnd(PathEnd.Kind.UNTOUCHED, "", masqueraded, 0));
    }

    /** The same path ends, each DNAT pinned to its endpoint for {@code seconds} (ClientIP affinity). */
    public Outcome sticky(int seconds) {
        TreeSet<PathEnd> out = new TreeSet<>();
        ends.forEach(e -> out.add(new PathEnd(e.kind(), e.endpoint(), e.masqueraded(), seconds)));
        return new Outcome(out);
    }

    @Override
    public String toString() {
        return ends.toString();
    }
}
