package io.kubeferry.proxy.testing.trace;

import java.util.Map;
import java.util.Objects;

/**
 * One row of the packet table: a packet and what must happen to it. {@code expected} holds for every mode
 * unless {@code modes} names a mode whose behaviour legitimately differs, with the reason.
 */
public record PacketCase(String name, Packet packet, Outcome expected, Map<String, ModeOutcome> modes) {

    /** A mode's own expectation and why it differs from the others'. */
    public record ModeOutcome(Outcome outcome, String why) {

        public ModeOutcome {
            Objects.requireNonNull(outcome, "outcome");
            if (why == null || why.isBlank()) {
                throw new IllegalArgumentException("a mode's own expectation says why");
            }
        }
    }

    public PacketCase {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(packet, "packet");
        Objects.requireNonNull(expected, "expected");
        modes = Map.copyOf(modes);
    }

    public PacketCase(String name, Packet packet, Outcome expected) {
        this(name, packet, expected, Map.of());
    }

    /** The same case, with {@code mode} expecting {@code outcome} for the reason given. */
    public PacketCase except(String mode, Outcome outcome, String why) {
        Map<String, ModeOutcome> more = new java.util.HashMap<>(modes);
        more.put(mode, new ModeOutcome(outcome, why));
        return new PacketCase(name, packet, expected, more);
    }

    public Outcome expectedFor(String mode) {
        ModeOutcome own = modes.get(mode);
        return own == null ? expected : own.outcome();
    }
}
