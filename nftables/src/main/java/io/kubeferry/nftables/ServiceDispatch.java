package io.kubeferry.nftables;

import io.kubeferry.proxy.scheduler.SlotTable;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The seam where a Service's policy chain picks an endpoint: the one place that writes that dispatch, from the
 * {@link SlotTable} the Service's algorithm gave. ClientIP affinity rules first ({@code ip saddr @affinity-X goto
 * endpoint-X}, {@code ip6 saddr} in an IPv6 table), then, by the table's key:
 * <ul>
 * <li>{@code RANDOM}: a cascade without maps, as iptables mode's {@code statistic} probabilities: {@code numgen
 * random mod N 0 goto endpoint-1}, {@code numgen random mod N-1 0 goto endpoint-2}, ..., and a plain {@code goto} to
 * the last endpoint (each endpoint is taken one draw in N; an endpoint holding w slots of R left matches
 * {@code 0-(w-1)}).</li>
 * <li>{@code ROUND_ROBIN}: a cascade of {@code numgen inc mod M-j 0 goto} per slot j, as iptables mode's
 * {@code statistic --mode nth}: each numgen inc expression keeps its own counter (nft_numgen, starting so that its
 * first value is 0) and counts only the connections that reach it, so rule j takes every (M-j)-th of what the
 * rules before it left, and every M consecutive new connections visit each slot exactly once. No map: a
 * {@code numgen inc mod M vmap { }} would be one more anonymous map per Service (k/k#139513).</li>
 * <li>{@code SOURCE_ADDRESS} (source-hash, maglev, a plugin's hash table): ONE rule, {@code numgen random mod 1 offset
 * ID1 . jhash ip saddr mod M seed S offset ID2*16384 vmap @scheduler-slots}, into ONE map shared by every hashing
 * Service, whose M elements per Service map (ID1, ID2*16384 + slot) to the slot's endpoint. The Service id is the
 * constant part of the key: nft 1.0.6 takes no bare constant in a concatenation ("Can't parse symbolic invalid
 * expressions"), and {@code numgen random mod 1 offset ID} is always ID (reciprocal_scale of anything by 1 is 0);
 * the slot's jhash carries 18 more bits of the id in its offset (the slot needs 14: {@link SlotTable#MAX_SLOTS}), so
 * ids are 50 bits of SHA-256 of the dispatch chain's name: stable across syncs and restarts, and two of 10,000
 * hashing chains share one with a probability of about 4e-8 (ElementDiff would then keep the first one's elements,
 * as for any contested key). The seed is {@link SlotTable#HASH_SEED}: every node hashes a client alike.</li>
 * </ul>
 * An element set per Service, not a map per Service: per-Service maps are what make upstream's nftables mode slow to
 * load (every added rule scans every map), and a partial sync touches only the changed Service's elements.
 * <p>
 * Upstream 1.35.4 writes {@code numgen random mod N vmap { 0 : goto ..., }}, an anonymous map per Service, and
 * adding rules scans every map in the ruleset (k/k#139513): measured on this kernel (NftDispatchBenchmark,
 * docs/benchmarks/nftables-dispatch.md), loading 10,000 Services × 5 endpoints took 29.5 s that way against
 * 3.0 s with the cascade, and 479 ms against 459 ms at 1,000, for the same one-Service change cost. So kube-ferry's
 * Service chains differ from upstream's in these rules (the differential test's allow-list says so); the traffic
 * they give is the same (each endpoint equally likely).
 */
final class ServiceDispatch {

    /** The map every hashing Service's slots live in. */
    static final String SLOTS_MAP = "scheduler-slots";

    /**
     * Its key: two 32-bit integers. {@code typeof}, because the key expressions are integers (a {@code type mark .
     * mark} map is refused: "datatype mismatch"); numgen, because nft 1.0.6 crashes listing a {@code typeof jhash}.
     */
    static final String SLOTS_TYPE = "typeof numgen random mod 1 . numgen random mod 1 : verdict";

    /** The slot occupies the low 14 bits of the key's second word; the id's other bits sit above. */
    static final int SLOT_BITS = 14;

    private ServiceDispatch() {
    }

    /** A dispatch: its rules in the policy chain and its elements of {@link #SLOTS_MAP} (empty unless hashing). */
    record Dispatch(List<NftObject.Rule> rules, List<NftObject.Element> slots) {

        Dispatch {
            rules = List.copyOf(rules);
            slots = List.copyOf(slots);
        }
    }

    /**
     * @param family         the table's family: the client address is {@code ip saddr} or {@code ip6 saddr}
     * @param chain          the policy chain (service-... or local-...)
     * @param endpointChains its endpoints' chains, in endpoint order (the order the table's indexes refer to)
     * @param affinity       whether ClientIP affinity is on (each endpoint then has its affinity set)
     * @param table          the algorithm's table for these endpoints, already checked against them
     */
    static Dispatch of(NftFamily family, String chain, List<String> endpointChains, boolean affinity, SlotTable table) {
        List<NftObject.Rule> rules = new ArrayList<>(endpointChains.size() + 1);
        if (affinity) {
            for (String ep : endpointChains) {
                rules.add(NftObject.Rule.of(chain, family.saddr() + " @" + NftNames.affinitySet(ep) + " goto " + ep));
            }
        }
        List<Integer> slots = table.slots();
        if (slots.stream().distinct().count() == 1) {
            // One endpoint holds every slot: nothing to choose.
            rules.add(NftObject.Rule.of(chain, "goto " + endpointChains.get(slots.get(0))));
            return new Dispatch(rules, List.of());
        }
        List<NftObject.Element> elements = List.of();
        switch (table.key()) {
            case RANDOM -> randomCascade(chain, endpointChains, table, rules);
            case ROUND_ROBIN -> {
                int m = slots.size();
                for (int j = 0; j < m - 1; j++) {
                    rules.add(NftObject.Rule.of(chain, "numgen inc mod " + (m - j) + " 0 goto " + endpointChains.get(slots.get(j))));
                }
                rules.add(NftObject.Rule.of(chain, "goto " + endpointChains.get(slots.get(m - 1))));
            }
            case SOURCE_ADDRESS -> {
                long[] id = id(chain);
                long base = id[1] << SLOT_BITS;
                rules.add(NftObject.Rule.of(chain,
                        "numgen random mod 1 offset " + id[0] + " . jhash " + family.saddr() + " mod " + slots.size()
                                + " seed " + String.format("0x%x", SlotTable.HASH_SEED) + " offset " + base + " vmap @" + SLOTS_MAP));
                List<NftObject.Element> out = new ArrayList<>(slots.size());
                for (int s = 0; s < slots.size(); s++) {
                    out.add(NftObject.Element.ofMap(SLOTS_MAP, List.of(Long.toString(id[0]), Long.toString(base + s)),
                            "goto " + endpointChains.get(slots.get(s)), null));
                }
                elements = out;
            }
        }
        return new Dispatch(rules, elements);
    }

    /**
     * Each endpoint's rule takes its share of what is left: {@code numgen random mod R 0} for one slot (the cascade
     * kube-ferry has always written for random), {@code 0-(w-1)} for w slots; the last endpoint with slots takes the
     * rest.
     */
    private static void randomCascade(String chain, List<String> endpointChains, SlotTable table, List<NftObject.Rule> rules) {
        int[] w = table.weights(endpointChains.size());
        int remaining = table.slots().size();
        int last = w.length - 1;
        while (w[last] == 0) {
            last--;
        }
        for (int i = 0; i < last; i++) {
            if (w[i] == 0) {
                continue;
            }
            String draw = w[i] == 1 ? "0" : "0-" + (w[i] - 1);
            rules.add(NftObject.Rule.of(chain, "numgen random mod " + remaining + " " + draw + " goto " + endpointChains.get(i)));
            remaining -= w[i];
        }
        rules.add(NftObject.Rule.of(chain, "goto " + endpointChains.get(last)));
    }

    /** A dispatch chain's id: 32 bits for the key's first word, 18 for the second's high bits (SHA-256 of its name). */
    static long[] id(String chain) {
        try {
            ByteBuffer d = ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(chain.getBytes(StandardCharsets.UTF_8)));
            long first = Integer.toUnsignedLong(d.getInt());
            long second = Integer.toUnsignedLong(d.getInt()) >>> SLOT_BITS;
            return new long[] {first, second};
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
