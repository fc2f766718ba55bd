package io.kubeferry.example.schedulers;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.scheduler.SchedulerAlgorithm;
import io.kubeferry.proxy.scheduler.SchedulingInput;
import io.kubeferry.proxy.scheduler.SlotTable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code weighted}: endpoints get shares of new connections by a weight per endpoint address, read from the
 * Service's own annotation {@code kube-ferry.io/weights}, e.g. {@code "198.18.0.11=3,198.18.0.12=1"} (an address
 * not listed weighs 1; weight 0 takes no new connection). None of the built-ins weighs endpoints: they hold one slot
 * each (or Maglev's near-equal share).
 *
 * <p>Weights become slots held more than once, so every table-driven mode expresses it without knowing it: by
 * default the slots are picked at random ({@code statistic --mode random} in iptables mode); with the flag
 * {@code rr} in {@code kube-ferry.io/scheduler-flags} in turn, interleaved (smooth weighted round robin, as nginx
 * does it) so that a heavy endpoint does not get its whole share in one burst. Weights are divided by their greatest
 * common divisor first, so 30/10 costs as few rules as 3/1.
 *
 * <p>The weights live in an annotation of its own rather than in scheduler flags because flags are a fixed set
 * ({@link #flags()}), checked by the agent before the algorithm runs. A malformed weight throws: the agent falls
 * back to the mode's default for that Service port with the reason (an Event), as the SPI says.
 */
public final class Weighted implements SchedulerAlgorithm {

    /** The Service annotation holding the weights. */
    public static final String WEIGHTS_KEY = "kube-ferry.io/weights";
    static final String ROUND_ROBIN_FLAG = "rr";

    @Override
    public String name() {
        return "weighted";
    }

    @Override
    public Set<String> flags() {
        return Set.of(ROUND_ROBIN_FLAG);
    }

    @Override
    public SlotTable table(SchedulingInput input) {
        int[] weights = weights(input);
        boolean inTurn = input.flags().contains(ROUND_ROBIN_FLAG);
        return new SlotTable(inTurn ? SlotTable.Key.ROUND_ROBIN : SlotTable.Key.RANDOM, interleaved(weights));
    }

    /** The weight per endpoint of the input (in its order), reduced by their greatest common divisor. */
    static int[] weights(SchedulingInput input) {
        Map<String, Integer> byAddress = parse(input.port().options().getOrDefault(WEIGHTS_KEY, ""));
        List<Endpoint> endpoints = input.endpoints();
        int[] weights = new int[endpoints.size()];
        int gcd = 0;
        long total = 0;
        for (int i = 0; i < weights.length; i++) {
            weights[i] = byAddress.getOrDefault(endpoints.get(i).ip(), 1);
            gcd = gcd(gcd, weights[i]);
            total += weights[i];
        }
        if (total == 0) {
            throw new IllegalArgumentException(WEIGHTS_KEY + " gives every endpoint weight 0");
        }
        long slots = 0;
        for (int i = 0; i < weights.length; i++) {
            weights[i] /= gcd;
            slots += weights[i];
        }
        if (slots > SlotTable.MAX_SLOTS) {
            throw new IllegalArgumentException(WEIGHTS_KEY + " needs " + slots + " slots, more than " + SlotTable.MAX_SLOTS);
        }
        return weights;
    }

    /** {@code ip=weight,...}; a bad entry is the operator's mistake, said with the entry. */
    static Map<String, Integer> parse(String raw) {
        Map<String, Integer> weights = new HashMap<>();
        for (String entry : raw.split(",")) {
            String e = entry.trim();
            if (e.isEmpty()) {
                continue;
            }
            int eq = e.indexOf('=');
            int weight;
            try {
                weight = eq > 0 ? Integer.parseInt(e.substring(eq + 1).trim()) : -1;
            } catch (NumberFormatException ex) {
                weight = -1;
            }
            if (weight < 0 || weight > SlotTable.MAX_SLOTS) {
                throw new IllegalArgumentException(WEIGHTS_KEY + ": \"" + e + "\" is not ADDRESS=WEIGHT with a weight of 0 to "
                        + SlotTable.MAX_SLOTS);
            }
            weights.put(e.substring(0, eq).trim(), weight);
        }
        return weights;
    }

    /**
     * Smooth weighted round robin: each step every endpoint gains its weight, the one with the most credit (the first
     * such on a tie) takes the slot and pays the total. Deterministic, and each endpoint's slots are spread out.
     */
    static List<Integer> interleaved(int[] weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        long[] credit = new long[weights.length];
        List<Integer> slots = new ArrayList<>(total);
        for (int s = 0; s < total; s++) {
            int best = -1;
            for (int i = 0; i < weights.length; i++) {
                credit[i] += weights[i];
                if (weights[i] > 0 && (best < 0 || credit[i] > credit[best])) {
                    best = i;
                }
            }
            credit[best] -= total;
            slots.add(best);
        }
        return slots;
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
