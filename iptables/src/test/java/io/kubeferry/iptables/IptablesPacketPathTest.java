package io.kubeferry.iptables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.trace.NetfilterTracer;
import io.kubeferry.proxy.testing.trace.PacketScenario;
import io.kubeferry.proxy.testing.trace.PacketTable;
import io.kubeferry.proxy.testing.trace.PacketTracer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.TestFactory;

import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The shared packet table ({@code PacketCases}) through iptables mode: each scenario is synced in full to a
 * fresh {@link FakeNetfilter} through the mode's provider, then every packet is walked through the rules it holds.
 */
class IptablesPacketPathTest {

    /**
     * iptables mode on {@code kernel}, made as the agent makes it (by mode name), for the scenario's family (ip6tables
     * for IPv6), with the scenario's settings.
     */
    static Dataplane dataplane(PacketScenario scenario, FakeNetfilter kernel) {
        kernel.setAddresses(scenario.addresses());
        return DataplaneProvider.forMode("iptables")
                .create(new DataplaneContext(scenario.config("iptables"), kernel, new SimpleMeterRegistry()).withFamily(scenario.family()));
    }

    static final Function<PacketScenario, PacketTracer> SYNCED = PacketTable.syncedFor(FakeNetfilter::new,
            IptablesPacketPathTest::dataplane, IptablesPacketPathTest::tracer);

    /** Walks the scenario's family's tables (ip6tables' for IPv6). */
    static PacketTracer tracer(PacketScenario scenario, FakeNetfilter kernel) {
        return new NetfilterTracer("iptables", scenario.family(), kernel, Set.of(scenario.nodeIP()),
                NetfilterTracer.Ipsets.NONE, NetfilterTracer.VirtualServers.NONE);
    }

    @TestFactory
    Stream<DynamicContainer> everyPacketOfTheTable() {
        return PacketTable.tests(SYNCED, Set.of());
    }
}
