package io.kubeferry.proxy.testing.trace;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;

import java.util.List;
import java.util.function.Function;
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
        return tests(PacketCases.all(), tracerFor);
    }

    public static Stream<DynamicContainer> tests(List<PacketScenario> scenarios, Function<PacketScenario, PacketTracer> tracerFor) {
        return scenarios.stream().map(scenario -> {
            PacketTracer tracer = tracerFor.apply(scenario);
            return DynamicContainer.dynamicContainer(scenario.name(), scenario.cases().stream()
                    .map(c -> DynamicTest.dynamicTest(c.name(), () -> check(tracer, c))));
        });
    }

    /** Asserts one case, naming the packet, both outcomes and every matched rule when it fails. */
    public static void check(PacketTracer tracer, PacketCase c) {
        PacketTracer.Trace trace = tracer.trace(c.packet());
        Outcome expected = c.expectedFor(tracer.mode());
        assertEquals(expected, trace.outcome(), () -> tracer.mode() + " case " + c.name() + ": " + c.packet()
                + "\nexpected " + expected + "\n     got " + trace.outcome() + "\n" + String.join("\n", trace.steps()));
    }
}
