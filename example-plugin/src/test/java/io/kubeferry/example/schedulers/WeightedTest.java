package io.kubeferry.example.schedulers;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.scheduler.SchedulerAlgorithms;
import io.kubeferry.proxy.scheduler.SchedulingInput;
import io.kubeferry.proxy.scheduler.SlotTable;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightedTest {

    private static final List<Endpoint> ENDPOINTS = List.of(endpoint("198.18.0.11", 8080), endpoint("198.18.0.12", 8080),
            endpoint("198.18.0.13", 8080));

    private static SchedulingInput input(String weights, Set<String> flags) {
        return new SchedulingInput(port("default", "web", "http", Protocol.TCP, "198.19.0.10", 80).option(Weighted.WEIGHTS_KEY, weights)
                .build(), ENDPOINTS, flags, 1021);
    }

    @Test
    void weightsBecomeSlotsReducedByTheirCommonDivisorAndUnlistedAddressesWeighOne() {
        SlotTable table = new Weighted().table(input("198.18.0.11=30, 198.18.0.12=0", Set.of()));
        assertEquals(SlotTable.Key.RANDOM, table.key());
        // 30, 0, 1 have no common divisor above 1: 31 slots, none for the weight-0 endpoint.
        assertArrayEquals(new int[] {30, 0, 1}, table.weights(3));
        assertArrayEquals(new int[] {3, 1, 2}, new Weighted().table(input("198.18.0.11=6,198.18.0.12=2,198.18.0.13=4", Set.of()))
                .weights(3));
    }

    @Test
    void theRrFlagTakesTheSlotsInTurnSpreadOut() {
        SlotTable table = new Weighted().table(input("198.18.0.11=3", Set.of("rr")));
        assertEquals(SlotTable.Key.ROUND_ROBIN, table.key());
        // Smooth weighted round robin: the heavy endpoint never gets its three slots in one burst.
        assertEquals(List.of(0, 1, 0, 2, 0), table.slots());
        assertEquals(table, new Weighted().table(input("198.18.0.11=3", Set.of("rr"))), "the same input gives the same table");
    }

    @Test
    void withoutTheAnnotationEveryEndpointHoldsOneSlot() {
        SchedulingInput none = new SchedulingInput(port("default", "web", "http", Protocol.TCP, "198.19.0.10", 80).build(), ENDPOINTS,
                Set.of(), 1021);
        assertEquals(List.of(0, 1, 2), new Weighted().table(none).slots());
    }

    @Test
    void aMalformedOrAllZeroWeightIsAnErrorNamingIt() {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> new Weighted().table(input("198.18.0.11=x", Set.of())));
        assertTrue(bad.getMessage().contains("\"198.18.0.11=x\""), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Weighted().table(input("198.18.0.11", Set.of())));
        assertThrows(IllegalArgumentException.class,
                () -> new Weighted().table(input("198.18.0.11=0,198.18.0.12=0,198.18.0.13=0", Set.of())));
        assertThrows(IllegalArgumentException.class, () -> new Weighted().table(input("198.18.0.11=16381,198.18.0.12=16380", Set.of())));
    }

    @Test
    void theAgentFindsItOnTheClassPathBesideTheBuiltIns() {
        SchedulerAlgorithms all = SchedulerAlgorithms.load(Set.of());
        assertTrue(all.names().containsAll(List.of("random", "rr", "source-hash", "maglev", "weighted")), all.names().toString());
        assertEquals(Set.of("rr"), all.provider(name -> true).flagsFor("weighted"));
    }
}
