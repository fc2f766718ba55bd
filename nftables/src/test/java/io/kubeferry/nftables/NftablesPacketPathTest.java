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

import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The shared packet table ({@code PacketCases}) through nftables mode: each scenario is synced in full to a fresh
 * {@link FakeNft} through the mode's provider, then every packet is walked through the kube-proxy table it holds
 * ({@link NftablesTracer}).
 */
class NftablesPacketPathTest {

    /** The node's addresses as {@code ip addr} lists them to the mode. */
    static final List<String> ADDRESSES = List.of("127.0.0.1/8", PacketScenario.NODE_IP + "/24");

    /** nftables mode over {@code nft}, made as the agent makes it (by mode name), with the scenario's settings. */
    static Dataplane dataplane(PacketScenario scenario, FakeNft nft) {
        return DataplaneProvider.forMode("nftables")
                .create(new DataplaneContext(scenario.config("nftables"), new FakeNftTools(nft, ADDRESSES), new SimpleMeterRegistry()));
    }

    static PacketTracer tracer(FakeNft nft) {
        return new NftablesTracer(nft, Set.of(PacketScenario.NODE_IP));
    }

    static final Function<PacketScenario, PacketTracer> SYNCED = PacketTable.synced(FakeNft::new,
            NftablesPacketPathTest::dataplane, NftablesPacketPathTest::tracer);

    @TestFactory
    Stream<DynamicContainer> everyPacketOfTheTable() {
        return PacketTable.tests(SYNCED, Set.of());
    }
}
