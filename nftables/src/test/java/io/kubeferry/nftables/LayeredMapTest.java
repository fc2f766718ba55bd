package io.kubeferry.nftables;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A layered map reads as the plain map the same puts and removes make, across many edits, folds included. */
class LayeredMapTest {

    @Test
    void readsAsAPlainMapThroughEditsAndFolds() {
        Random random = new Random(12);
        Map<Integer, String> plain = new HashMap<>();
        for (int i = 0; i < 500; i++) {
            plain.put(i, "v" + i);
        }
        Map<Integer, String> layered = new HashMap<>(plain);
        for (int round = 0; round < 200; round++) {
            Map<Integer, String> before = Map.copyOf(plain);
            LayeredMap.Editor<Integer, String> editor = LayeredMap.edit(layered);
            // Small edits mostly (the layer grows over rounds), now and then a large one (a fold).
            int changes = round % 37 == 0 ? 300 : 1 + random.nextInt(8);
            for (int c = 0; c < changes; c++) {
                int key = random.nextInt(700);
                if (random.nextBoolean()) {
                    String value = "r" + round + "-" + c;
                    assertEquals(plain.put(key, value), editor.put(key, value));
                } else {
                    assertEquals(plain.remove(key), editor.remove(key));
                }
                assertEquals(plain.size(), editor.size());
                assertEquals(plain.get(key), editor.get(key));
            }
            assertEquals(plain, editor);
            LayeredMap<Integer, String> built = editor.build();
            assertEquals(plain, built);
            assertEquals(plain.size(), built.entrySet().stream().count());
            assertEquals(before, layered, "an edit leaves the map it started from as it was");
            layered = built;
        }
    }

    @Test
    void keysReadAsAPlainSet() {
        Random random = new Random(7);
        Set<Integer> plain = new HashSet<>(Set.of(1, 2, 3));
        Set<Integer> layered = new HashSet<>(plain);
        for (int round = 0; round < 100; round++) {
            LayeredMap.KeyEditor<Integer> editor = LayeredMap.editKeys(layered);
            for (int c = 0; c < 1 + random.nextInt(round % 20 == 0 ? 200 : 5); c++) {
                int key = random.nextInt(300);
                if (random.nextBoolean()) {
                    assertEquals(plain.add(key), editor.add(key));
                } else {
                    assertEquals(plain.remove(key), editor.remove(key));
                }
            }
            assertEquals(plain, editor);
            layered = editor.build();
            assertEquals(plain, layered);
            assertEquals(plain.hashCode(), layered.hashCode());
        }
    }

    @Test
    void holdsNoNulls() {
        LayeredMap.Editor<String, String> editor = LayeredMap.edit(Map.of("a", "b"));
        assertThrows(NullPointerException.class, () -> editor.put("x", null));
        assertEquals(null, editor.get("x"));
        assertEquals(false, editor.containsKey("x"));
    }
}
