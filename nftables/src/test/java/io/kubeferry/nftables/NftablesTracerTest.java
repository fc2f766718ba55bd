package io.kubeferry.nftables;

import io.kubeferry.proxy.testing.trace.Outcome;
import io.kubeferry.proxy.testing.trace.Packet;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tracer's own rules: hooks by priority, verdicts, and no guessing at a form it does not know. */
class NftablesTracerTest {

    private static final Packet FROM_POD = Packet.tcp(Packet.Origin.POD, "198.18.0.100", "198.19.0.1", 80);

    private static FakeNft table(String natRule, String filterRule) {
        FakeNft nft = new FakeNft();
        NftTransaction tx = new NftTransaction("ip", "kube-proxy");
        tx.add(new NftObject.Table("rules for kube-proxy"))
                .add(NftObject.Chain.base("filter-forward", "filter", "forward", 0))
                .add(NftObject.Chain.base("nat-prerouting", "nat", "prerouting", NftObject.Base.DSTNAT))
                .add(NftObject.Rule.of("nat-prerouting", natRule))
                .add(NftObject.Rule.of("filter-forward", filterRule));
        nft.apply(tx);
        return nft;
    }

    private static NftablesTracer tracer(FakeNft nft) {
        return new NftablesTracer(nft, Set.of("198.18.1.1"));
    }

    @Test
    void aDnatInPreroutingIsSeenByTheForwardChainAfterIt() {
        FakeNft nft = table("ip daddr 198.19.0.1 tcp dport 80 dnat to 198.18.0.10:8080", "ip daddr 198.18.0.10 drop");
        // "tcp dport" is no form the renderer writes: the trace must refuse it rather than guess.
        assertThrows(IllegalStateException.class, () -> tracer(nft).trace(FROM_POD));

        FakeNft known = table("ip daddr 198.19.0.1 meta l4proto tcp dnat to 198.18.0.10:8080", "ip daddr 198.18.0.10 drop");
        assertEquals(Outcome.drop(), tracer(known).trace(FROM_POD).outcome());
        FakeNft passing = table("ip daddr 198.19.0.1 meta l4proto tcp dnat to 198.18.0.10:8080", "ip daddr 198.18.0.11 drop");
        assertEquals(Outcome.dnat(false, "198.18.0.10:8080"), tracer(passing).trace(FROM_POD).outcome());
    }

    @Test
    void numgenIsEveryBranch() {
        FakeNft nft = new FakeNft();
        NftTransaction tx = new NftTransaction("ip", "kube-proxy");
        tx.add(new NftObject.Table("rules for kube-proxy"))
                .add(NftObject.Chain.base("nat-prerouting", "nat", "prerouting", NftObject.Base.DSTNAT))
                .add(NftObject.Chain.regular("a")).add(NftObject.Chain.regular("b"))
                .add(NftObject.Rule.of("a", "meta l4proto tcp dnat to 198.18.0.10:8080"))
                .add(NftObject.Rule.of("b", "meta l4proto tcp dnat to 198.18.0.20:8080"))
                .add(NftObject.Rule.of("nat-prerouting", "ip daddr 198.19.0.1 numgen random mod 2 vmap { 0 : goto a , 1 : goto b }"));
        nft.apply(tx);
        NftablesTracer.Trace trace = tracer(nft).trace(FROM_POD);
        assertEquals(Outcome.dnat(false, "198.18.0.10:8080", "198.18.0.20:8080"), trace.outcome());
        assertTrue(trace.steps().stream().anyMatch(s -> s.contains("[branch 1]")), String.join("\n", trace.steps()));
    }

    @Test
    void wordsItDoesNotKnowFailTheTrace() {
        for (String rule : List.of("meta skuid 0 drop", "ip daddr 198.19.0.1 counter drop", "ct state established accept")) {
            FakeNft nft = table("ip daddr 198.19.0.2 drop", rule);
            assertThrows(IllegalStateException.class, () -> tracer(nft).trace(FROM_POD), rule);
        }
    }
}
