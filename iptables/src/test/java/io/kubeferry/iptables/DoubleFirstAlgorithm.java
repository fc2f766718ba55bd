package io.kubeferry.iptables;

import io.kubeferry.proxy.scheduler.SchedulerAlgorithm;
import io.kubeferry.proxy.scheduler.SchedulingInput;
import io.kubeferry.proxy.scheduler.SlotTable;

import java.util.ArrayList;
import java.util.List;

/**
 * A plugin as a third party would write one (IptablesSchedulingTest registers it through a META-INF/services
 * entry): random, with the first endpoint weighted twice.
 */
public final class DoubleFirstAlgorithm implements SchedulerAlgorithm {

    @Override
    public String name() {
        return "double-first";
    }

    @Override
    public SlotTable table(SchedulingInput input) {
        List<Integer> slots = new ArrayList<>(List.of(0));
        for (int i = 0; i < input.endpoints().size(); i++) {
            slots.add(i);
        }
        return new SlotTable(SlotTable.Key.RANDOM, slots);
    }
}
