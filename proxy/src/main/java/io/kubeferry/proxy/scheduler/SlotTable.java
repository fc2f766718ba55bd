package io.kubeferry.proxy.scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A scheduling algorithm's answer in a form every table-driven dataplane can express: {@code slots.size()} slots,
 * each naming an endpoint by its index in {@link SchedulingInput#endpoints()}; {@link #key()} says how a new
 * connection picks its slot. An endpoint's share of new connections is the share of slots it holds, so weights
 * are slots held more than once, and an endpoint that holds no slot gets no new connection.
 *
 * <p>Why a table and not per-mode rendering hooks: every mode can turn a table into its own language without the
 * algorithm knowing it (iptables: a {@code statistic} cascade, or HMARK into a packet mark and one mark match per
 * run of slots; nftables: {@code numgen random/inc mod N} or {@code jhash ip saddr mod N} into a map from slot to
 * endpoint), the table is checked before anything is written (a hook writing rule text could make the one atomic
 * restore fail and take every Service with it), and partial sync, rule counting and the masquerade mark stay the
 * dataplane's business. An algorithm written once works in every mode that offers table-driven algorithms.
 *
 * @param key   how a connection picks its slot
 * @param slots endpoint index per slot; at least one, and at most {@link #MAX_SLOTS} when the slot is picked by a hash
 *              of the client (the slot travels in mark bits then; a random or round-robin cascade has no such bound,
 *              and a Service's endpoint count must never make its default table invalid)
 */
public record SlotTable(Key key, List<Integer> slots) {

    /**
     * The most slots a table may have: iptables mode carries the slot in the low 14 bits of the packet mark, below
     * the masquerade bit (0x4000) and kubelet's drop bit (0x8000); 16381 is also the largest prime below 2^14.
     */
    public static final int MAX_SLOTS = 16381;

    /**
     * The seed every node hashes client addresses with ({@code --hmark-rnd}, nftables {@code jhash ... seed}): fixed,
     * so the same client address lands in the same slot on every node.
     */
    public static final int HASH_SEED = 0x6b666572;

    /** How a new connection picks its slot. */
    public enum Key {
        /** Uniformly at random, independently per new connection (upstream's {@code statistic --mode random}). */
        RANDOM,
        /** The next slot, in order, per new connection the node sees for this Service port. */
        ROUND_ROBIN,
        /**
         * A hash of the client's IPv4 address with {@link #HASH_SEED}, modulo the slot count: the same client
         * reaches the same slot while the table's size stays the same. The hash function is the dataplane's
         * (iptables: HMARK's jhash), the same on every node.
         */
        SOURCE_ADDRESS
    }

    public SlotTable {
        Objects.requireNonNull(key, "key");
        slots = List.copyOf(slots);
        if (slots.isEmpty()) {
            throw new IllegalArgumentException("a slot table has at least one slot");
        }
        if (key == Key.SOURCE_ADDRESS && slots.size() > MAX_SLOTS) {
            throw new IllegalArgumentException("a hashed slot table has 1 to " + MAX_SLOTS + " slots, got " + slots.size());
        }
    }

    /** One slot per endpoint, in order. */
    public static SlotTable oneEach(Key key, int endpoints) {
        List<Integer> slots = new ArrayList<>(endpoints);
        for (int i = 0; i < endpoints; i++) {
            slots.add(i);
        }
        return new SlotTable(key, slots);
    }

    /** Slots held per endpoint index (0 for an endpoint that holds none), for {@code endpoints} endpoints. */
    public int[] weights(int endpoints) {
        int[] w = new int[endpoints];
        for (int s : slots) {
            w[s]++;
        }
        return w;
    }

    /**
     * Checks the table against the input it was computed from.
     *
     * @throws IllegalArgumentException naming the first slot that names no endpoint
     */
    public SlotTable checkedFor(SchedulingInput input) {
        int n = input.endpoints().size();
        for (int i = 0; i < slots.size(); i++) {
            int e = slots.get(i);
            if (e < 0 || e >= n) {
                throw new IllegalArgumentException("slot " + i + " names endpoint " + e + " of " + n);
            }
        }
        return this;
    }
}
