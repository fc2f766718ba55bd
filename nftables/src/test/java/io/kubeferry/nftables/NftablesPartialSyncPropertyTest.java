package io.kubeferry.nftables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.testing.partial.PartialSyncProperty;
import io.kubeferry.proxy.testing.partial.PartialSyncTarget;
import io.kubeferry.proxy.testing.trace.PacketScenario;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Partial syncs of random histories end where one full sync of the final objects ends (nftables mode). */
class NftablesPartialSyncPropertyTest {

    private static final Pattern EMPTY_CHAIN = Pattern.compile("\tchain (\\S+) \\{\n\t}\n");

    static PartialSyncTarget fresh() {
        FakeNft nft = new FakeNft();
        PacketScenario churn = new PacketScenario("churn", false, List.of(), List.of());
        Dataplane dataplane = NftablesPacketPathTest.dataplane(churn, nft);
        return new PartialSyncTarget(dataplane, PartialSyncTarget.Settle.NOTHING, () -> kernelState(nft),
                () -> NftablesPacketPathTest.tracer(churn, nft));
    }

    /**
     * The table as {@code nft list table} prints it (the fake lists sets, maps, chains and elements sorted; rules
     * keep their order), less the empty chains nothing refers to: a partial sync flushes a removed Service's or
     * endpoint's chains at once and deletes them in a sync at least a second later (kernels before 6.2 cannot
     * delete a chain a just-removed map element refers to), so they may still be there; no packet reaches them.
     */
    static String kernelState(FakeNft nft) {
        String listing = nft.listTable(NftFamily.IPV4.name(), NftablesRenderer.TABLE);
        StringBuilder out = new StringBuilder();
        Matcher m = EMPTY_CHAIN.matcher(listing);
        int at = 0;
        while (m.find()) {
            String name = m.group(1);
            boolean referred = listing.contains("jump " + name) || listing.contains("goto " + name);
            out.append(listing, at, referred ? m.end() : m.start());
            at = m.end();
        }
        return out.append(listing.substring(at)).toString();
    }

    @Test
    void twoHundredRandomHistories() throws Exception {
        PartialSyncProperty.check("nftables", NftablesPartialSyncPropertyTest::fresh, 200, 1);
    }
}
