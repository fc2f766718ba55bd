package io.kubeferry.proxy.scheduler;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SlotTableTest {

    /** The default table of a Service with more endpoints than hashed slots fit in the mark must stay valid. */
    @Test
    void cascadesHaveNoSlotBoundButHashedTablesDo() {
        int endpoints = SlotTable.MAX_SLOTS + 1000;
        assertEquals(endpoints, SlotTable.oneEach(SlotTable.Key.RANDOM, endpoints).slots().size());
        assertEquals(endpoints, SlotTable.oneEach(SlotTable.Key.ROUND_ROBIN, endpoints).slots().size());
        assertThrows(IllegalArgumentException.class, () -> SlotTable.oneEach(SlotTable.Key.SOURCE_ADDRESS, endpoints));
        assertEquals(SlotTable.MAX_SLOTS, SlotTable.oneEach(SlotTable.Key.SOURCE_ADDRESS, SlotTable.MAX_SLOTS).slots().size());
        assertThrows(IllegalArgumentException.class, () -> new SlotTable(SlotTable.Key.RANDOM, List.of()));
    }
}
