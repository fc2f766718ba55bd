package io.kubeferry.proxy.testing.trace;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.SyncRequest;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;

import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs {@link PacketCases} against one mode: one dynamic test per case, grouped by scenario. */
public final class PacketTable {

    private PacketTable() {
    }

    /**
     * @param tracerFor syncs a scenario to fresh fakes of the mode under test and returns their tracer
     */
    public static Stream<DynamicContainer> tests(Function<PacketScenario, PacketTracer> tracerFor) {
        return tests(tracerFor, Set.of());
    }

    /**
     * @param knownBugs cases this mode is known to fail (a product bug, each run on its own by a disabled test
     *                  that says why): left out here so the rest stays a gate; a name that is no case fails
     */
    public static Stream<DynamicContainer> tests(Function<PacketScenario, PacketTracer> tracerFor, Set<String> knownBugs) {
        Set<String> names = PacketCases.all().stream().flatMap(s -> s.cases().stream()).map(PacketCase::name).collect(Collectors.toSet());
        if (!names.containsAll(knownBugs)) {
            throw new IllegalArgumentException("no such packet case: " + knownBugs.stream().filter(n -> !names.contains(n)).toList());
        }
        return PacketCases.all().stream().map(scenario -> {
            // Synced when its first case runs (a failing sync fails the cases, not the factory), and only once.
            PacketTracer[] tracer = new PacketTracer[1];
            Supplier<PacketTracer> once = () -> tracer[0] != null ? tracer[0] : (tracer[0] = tracerFor.apply(scenario));
            return DynamicContainer.dynamicContainer(scenario.name(), scenario.cases().stream()
                    .filter(c -> !knownBugs.contains(c.name()))
                    .map(c -> DynamicTest.dynamicTest(c.name(), () -> check(scenario, once.get(), c))));
        });
    }

    /** Runs named cases of the table, all of them even when one fails. */
    public static void check(Set<String> caseNames, Function<PacketScenario, PacketTracer> tracerFor) {
        List<org.junit.jupiter.api.function.Executable> checks = new java.util.ArrayList<>();
        for (PacketScenario scenario : PacketCases.all()) {
            for (PacketCase c : scenario.cases()) {
                if (caseNames.contains(c.name())) {
                    checks.add(() -> check(scenario, tracerFor.apply(scenario), c));
                }
            }
        }
        if (checks.size() != caseNames.size()) {
            throw new IllegalArgumentException("not every name is a packet case: " + caseNames);
        }
        org.junit.jupiter.api.Assertions.assertAll(checks);
    }

    /**
     * How a mode gets its tracer for a scenario: fresh fakes, the mode made on them with the scenario's settings,
     * one full sync of the scenario, a tracer over the fakes. A failed sync fails the scenario's cases.
     */
    public static <K> Function<PacketScenario, PacketTracer> synced(Supplier<K> fakes, BiFunction<PacketScenario, K, Dataplane> mode,
            Function<K, PacketTracer> tracer) {
        return syncedFor(fakes, mode, (scenario, kernel) -> tracer.apply(kernel));
    }

    /**
     * As {@link #synced(Supplier, BiFunction, Function)}, the tracer made for the scenario too (its family: see
     * {@link PacketScenario#family()}).
     */
    public static <K> Function<PacketScenario, PacketTracer> syncedFor(Supplier<K> fakes, BiFunction<PacketScenario, K, Dataplane> mode,
            BiFunction<PacketScenario, K, PacketTracer> tracer) {
        return scenario -> {
            K kernel = fakes.get();
            try {
                mode.apply(scenario, kernel).sync(SyncRequest.full(scenario.state()));
            } catch (DataplaneException e) {
                throw new IllegalStateException("sync of scenario " + scenario.name() + " failed: " + e.getMessage(), e);
            }
            return tracer.apply(scenario, kernel);
        };
    }

    /**
     * Asserts one case of {@code scenario}; first that the tracer reads the scenario's family (an IPv6 scenario
     * traced through IPv4 state proves nothing, whatever the outcome).
     */
    public static void check(PacketScenario scenario, PacketTracer tracer, PacketCase c) {
        if (tracer.family() != scenario.family()) {
            org.junit.jupiter.api.Assertions.fail(tracer.mode() + " case " + c.name() + ": scenario " + scenario.name() + " is "
                    + scenario.family() + " but the tracer reads " + tracer.family() + " state: this mode's packet-path test"
                    + " must make its dataplane with DataplaneContext.withFamily(scenario.family()) and a tracer of that family"
                    + " (PacketTable.syncedFor)");
        }
        check(tracer, c);
    }

    /** Asserts one case, naming the packet, both outcomes and every matched rule when it fails. */
    public static void check(PacketTracer tracer, PacketCase c) {
        PacketTracer.Trace trace = tracer.trace(c.packet());
        Outcome expected = c.expectedFor(tracer.mode());
        assertEquals(expected, trace.outcome(), () -> tracer.mode() + " case " + c.name() + ": " + c.packet()
                + "\nexpected " + expected + "\n     got " + trace.outcome() + "\n" + String.join("\n", trace.steps()));
    }
}
