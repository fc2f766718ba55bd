package io.kubeferry.proxy.scheduler;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry of table-driven algorithms, the node default, and what happens when a plugin misbehaves. */
class SchedulerAlgorithmsTest {

    private static final ServicePort PORT = Fixtures.port("ns", "web", "", Protocol.TCP, "198.19.0.1", 80).build();
    private static final List<Endpoint> EPS = List.of(Fixtures.endpoint("198.18.0.2", 80), Fixtures.endpoint("198.18.0.3", 80),
            Fixtures.endpoint("198.18.0.4", 80));

    /** A plugin under a given name returning a given table (or throwing). */
    private record Fixed(String name, SlotTable table) implements SchedulerAlgorithm {

        @Override
        public SlotTable table(SchedulingInput input) {
            if (table == null) {
                throw new IllegalStateException("broken plugin");
            }
            return table;
        }
    }

    private static SchedulerChoice chosen(String name) {
        return new SchedulerChoice(new Scheduler(name, Set.of()), java.util.Optional.empty());
    }

    @Test
    void theBuiltInsComeFirstAndAPluginCannotTakeATakenName() {
        SchedulerAlgorithms all = SchedulerAlgorithms.of(List.of(new Fixed("maglev", null), new Fixed("sh", null),
                new Fixed("mine", SlotTable.oneEach(SlotTable.Key.RANDOM, 1))), Set.of("sh"));
        assertEquals(List.of("random", "rr", "source-hash", "maglev", "mine"), List.copyOf(all.names()));
        assertFalse(all.find("maglev").orElseThrow() instanceof Fixed, "the built-in maglev stays");
    }

    @Test
    void aFailingPluginOrOneNamingAMissingEndpointFallsBackForThatServiceOnly() {
        SchedulerAlgorithms all = SchedulerAlgorithms.of(List.of(new Fixed("broken", null),
                new Fixed("wrong", new SlotTable(SlotTable.Key.RANDOM, List.of(0, 7)))), Set.of());
        SchedulingInput input = new SchedulingInput(PORT, EPS, Set.of(), 1021);
        for (String name : List.of("broken", "wrong")) {
            SchedulerAlgorithms.Scheduled s = all.schedule(chosen(name), input, "random");
            assertTrue(s.choice().fellBack(), name);
            assertEquals("random", s.choice().scheduler().name());
            assertEquals(SlotTable.oneEach(SlotTable.Key.RANDOM, 3), s.table());
        }
    }

    @Test
    void theBuiltInTables() {
        SchedulerAlgorithms all = SchedulerAlgorithms.builtIn();
        SchedulingInput input = new SchedulingInput(PORT, EPS, Set.of(), 251);
        assertEquals(new SlotTable(SlotTable.Key.ROUND_ROBIN, List.of(0, 1, 2)), all.schedule(chosen("rr"), input, "random").table());
        assertEquals(new SlotTable(SlotTable.Key.SOURCE_ADDRESS, List.of(0, 1, 2)),
                all.schedule(chosen("source-hash"), input, "random").table());
        SlotTable maglev = all.schedule(chosen("maglev"), input, "random").table();
        assertEquals(SlotTable.Key.SOURCE_ADDRESS, maglev.key());
        assertEquals(251, maglev.slots().size());
    }

    @Test
    void aNodeDefaultTheModeLacksGivesWayToTheModesDefault() {
        SchedulerProvider randomOnly = SchedulerAlgorithms.builtIn().provider("random"::equals);
        assertEquals("random", SchedulerCatalog.forNode("nftables", randomOnly, "maglev", "random").fallback().name());
        SchedulerProvider every = SchedulerAlgorithms.builtIn().provider(n -> true);
        SchedulerCatalog catalog = SchedulerCatalog.forNode("iptables", every, "maglev", "random");
        assertEquals("maglev", catalog.choose(Map.of()).scheduler().name(), "a Service without an annotation gets the node's default");
        assertEquals("rr", catalog.choose(Map.of(SchedulerCatalog.SCHEDULER_KEY, "rr")).scheduler().name());
        assertTrue(catalog.choose(Map.of(SchedulerCatalog.SCHEDULER_KEY, "wlc")).fellBack());
    }
}
