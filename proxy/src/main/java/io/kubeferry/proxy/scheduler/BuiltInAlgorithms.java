package io.kubeferry.proxy.scheduler;

import java.util.List;

/** The algorithms kube-ferry ships, as {@link SchedulerAlgorithm}s like any plugin's. */
final class BuiltInAlgorithms {

    static final String RANDOM = "random";
    static final String ROUND_ROBIN = "rr";
    static final String SOURCE_HASH = "source-hash";
    static final String MAGLEV = "maglev";

    private BuiltInAlgorithms() {
    }

    static List<SchedulerAlgorithm> all() {
        return List.of(new OneSlotEach(RANDOM, SlotTable.Key.RANDOM), new OneSlotEach(ROUND_ROBIN, SlotTable.Key.ROUND_ROBIN),
                new OneSlotEach(SOURCE_HASH, SlotTable.Key.SOURCE_ADDRESS), new Maglev());
    }

    /**
     * An endpoint per slot: random is upstream's cascade, rr takes the endpoints in turn, source-hash sends a client
     * address to slot hash mod N (stable while the endpoint set is, but not consistent: N changing moves most clients).
     */
    private record OneSlotEach(String name, SlotTable.Key key) implements SchedulerAlgorithm {

        @Override
        public SlotTable table(SchedulingInput input) {
            return SlotTable.oneEach(key, input.endpoints().size());
        }
    }

    /** Consistent hashing: client address hash mod M into a {@link MaglevTable} of the node's table size. */
    private static final class Maglev implements SchedulerAlgorithm {

        @Override
        public String name() {
            return MAGLEV;
        }

        @Override
        public SlotTable table(SchedulingInput input) {
            List<String> names = input.endpoints().stream().map(e -> e.hostPort()).toList();
            return new SlotTable(SlotTable.Key.SOURCE_ADDRESS, MaglevTable.compute(names, input.hashTableSize(), SlotTable.HASH_SEED));
        }
    }
}
