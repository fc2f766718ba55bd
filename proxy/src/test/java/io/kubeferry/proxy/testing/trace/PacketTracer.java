package io.kubeferry.proxy.testing.trace;

import java.util.List;

/**
 * One dataplane's interpreter of its own kernel state (the fakes it was synced to): what would happen to a
 * packet. Each mode has one; the case table ({@link PacketCases}) is the same for all.
 */
public interface PacketTracer {

    /** The mode traced, e.g. {@code iptables}: the key of a case's per-mode expectations. */
    String mode();

    /**
     * The IP family whose kernel state this tracer reads: a scenario is only traced by a tracer of its own family
     * (a mode that made an IPv4 dataplane and tracer for an IPv6 scenario fails every case of it, saying so).
     */
    default io.kubeferry.proxy.model.IpFamily family() {
        return io.kubeferry.proxy.model.IpFamily.IPv4;
    }

    Trace trace(Packet packet);

    /**
     * @param outcome what happens
     * @param steps   the rules and lookups that matched, in order, for the failure message
     */
    record Trace(Outcome outcome, List<String> steps) {

        public Trace {
            steps = List.copyOf(steps);
        }

        /** The outcome of paths that ended at {@code ends}, {@code steps.get(i)} the steps of the path to {@code ends.get(i)}. */
        public static Trace of(List<PathEnd> ends, List<List<String>> steps) {
            List<String> lines = new java.util.ArrayList<>();
            for (int i = 0; i < ends.size(); i++) {
                lines.add("path " + (i + 1) + " -> " + ends.get(i));
                steps.get(i).forEach(s -> lines.add("    " + s));
            }
            return new Trace(new Outcome(new java.util.TreeSet<>(ends)), lines);
        }
    }
}
