package io.kubeferry.proxy.testing.trace;

import java.util.List;

/**
 * One dataplane's interpreter of its own kernel state (the fakes it was synced to): what would happen to a
 * packet. Each mode has one; the case table ({@link PacketCases}) is the same for all.
 */
public interface PacketTracer {

    /** The mode traced, e.g. {@code iptables}: the key of a case's per-mode expectations. */
    String mode();

    Trace trace(Packet packet);

    /**
     * @param outcome what happens
     * @param steps   the rules and lookups that matched, in order, for the failure message
     */
    record Trace(Outcome outcome, List<String> steps) {
        public Trace {
            steps = List.copyOf(steps);
        }
    }
}
