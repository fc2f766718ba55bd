package io.kubeferry.proxy.scheduler;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Maglev table by itself: agreement between computations, balance, and how few slots move. */
class MaglevTableTest {

    static List<String> names(int n) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("198.18.0." + (10 + i) + ":8080");
        }
        return names;
    }

    static double moved(List<Integer> before, List<String> beforeNames, List<Integer> after, List<String> afterNames) {
        int changed = 0;
        for (int s = 0; s < before.size(); s++) {
            if (!beforeNames.get(before.get(s)).equals(afterNames.get(after.get(s)))) {
                changed++;
            }
        }
        return (double) changed / before.size();
    }

    @Test
    void twoIndependentComputationsGiveTheSameTable() {
        for (int m : new int[] {251, 1021, 16381}) {
            List<String> a = names(7);
            List<String> b = new ArrayList<>(names(7)); // another list, built again, as another node would
            assertEquals(MaglevTable.compute(a, m, SlotTable.HASH_SEED), MaglevTable.compute(b, m, SlotTable.HASH_SEED), "M=" + m);
        }
    }

    @Test
    void everyEndpointHoldsItsShareGiveOrTakeOne() {
        for (int n : new int[] {1, 2, 3, 10, 50}) {
            List<Integer> t = MaglevTable.compute(names(n), 251, SlotTable.HASH_SEED);
            Map<Integer, Integer> held = new TreeMap<>();
            t.forEach(e -> held.merge(e, 1, Integer::sum));
            assertEquals(n, held.size());
            held.values().forEach(c -> assertTrue(c >= 251 / n && c <= 251 / n + 1, n + " endpoints: " + held));
        }
    }

    /**
     * Removing or adding one of N endpoints moves about 1/N of the slots. The bound 0.8/N to 1.5/N is asserted where
     * M is at least 100 N (Maglev's paper: M much larger than N); the grid printed shows how a smaller M does.
     */
    @Test
    void oneEndpointMoreOrLessMovesAboutOneNth() {
        StringBuilder grid = new StringBuilder("maglev slots moved (x 1/N when removing one of N, x 1/(N+1) when adding one):\n"
                + "    M    N  removed  added\n");
        for (int m : new int[] {251, 1021, 4093}) {
            for (int n : new int[] {3, 5, 10, 20}) {
                List<String> all = names(n);
                List<Integer> before = MaglevTable.compute(all, m, SlotTable.HASH_SEED);
                double worstRemoved = 0;
                for (int gone = 0; gone < n; gone++) {
                    List<String> fewer = new ArrayList<>(all);
                    fewer.remove(gone);
                    double f = moved(before, all, MaglevTable.compute(fewer, m, SlotTable.HASH_SEED), fewer) * n;
                    worstRemoved = Math.max(worstRemoved, f);
                    if (m >= 100 * n) {
                        assertTrue(f >= 0.8 && f <= 1.5, "M=" + m + " N=" + n + " removing " + gone + ": " + f + "/N");
                    }
                }
                List<String> more = new ArrayList<>(all);
                more.add("198.18.0.200:8080");
                double added = moved(before, all, MaglevTable.compute(more, m, SlotTable.HASH_SEED), more) * (n + 1);
                if (m >= 100 * n) {
                    assertTrue(added >= 0.8 && added <= 1.5, "M=" + m + " N=" + n + " adding one: " + added + "/(N+1)");
                }
                grid.append(String.format("%5d %4d  %6.2f  %6.2f%n", m, n, worstRemoved, added));
            }
        }
        System.out.print(grid);
    }

    @Test
    void theSizeMustBePrime() {
        assertThrows(IllegalArgumentException.class, () -> MaglevTable.compute(names(2), 250, 1));
    }
}
