package io.kubeferry.nftables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
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
 * The shared packet table ({@code PacketCases}) through nftables mode: each scenario is synced in full to a fresh
 * {@link FakeNft} through the mode's provider, then every packet is walked through the kube-proxy table it holds
 * ({@link NftablesTracer}).
 */
class NftablesPacketPathTest {

    /**
     * nftables mode over {@code nft}, made as the agent makes it (by mode name) for the scenario's family (table ip6
     * kube-proxy for IPv6), with the scenario's settings and node addresses.
     */
    static Dataplane dataplane(PacketScenario scenario, FakeNft nft) {
        return DataplaneProvider.forMode("nftables").create(new DataplaneContext(scenario.config("nftables"),
                new FakeNftTools(nft, scenario.addresses()), new SimpleMeterRegistry()).withFamily(scenario.family()));
    }

    /** Walks the scenario's family's table. */
    static PacketTracer tracer(PacketScenario scenario, FakeNft nft) {
        return new NftablesTracer(nft, NftFamily.of(scenario.family()), Set.of(scenario.nodeIP()));
    }

    static final Function<PacketScenario, PacketTracer> SYNCED = PacketTable.syncedFor(FakeNft::new,
            NftablesPacketPathTest::dataplane, NftablesPacketPathTest::tracer);

    @TestFactory
    Stream<DynamicContainer> everyPacketOfTheTable() {
        return PacketTable.tests(SYNCED, Set.of());
    }
}
