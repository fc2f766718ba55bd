package io.kubeferry.it.peer;

import io.kubeferry.it.peer.AgentProcess.Kind;
import io.kubeferry.it.peer.AgentRun.Flavour;
import io.kubeferry.it.peer.AgentRun.Quantity;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs to figures: pairs by size and flavour, missing values keep their reason, the scaling ratio per agent. */
class UpstreamFiguresTest {

    private static AgentRun run(Kind kind, Flavour flavour, int services, Map<Quantity, Double> values) {
        return new AgentRun(kind, flavour, services, values, Optional.empty());
    }

    @Test
    void pairsTheAgentsOfOneSizeAndFlavour() {
        List<Figure> figures = UpstreamFigures.figures(List.of(
                run(Kind.KUBE_PROXY, Flavour.IPTABLES_LEGACY, 1000, Map.of(Quantity.START_TO_RULES, 2.0)),
                run(Kind.KUBE_FERRY, Flavour.IPTABLES_LEGACY, 1000, Map.of(Quantity.START_TO_RULES, 1.0)),
                run(Kind.KUBE_PROXY, Flavour.IPTABLES_NFT, 1000,
                        Map.of(Quantity.START_TO_RULES, 8.0, Quantity.LATENCY_P50, 80.0, Quantity.LATENCY_P99, 100.0)),
                new AgentRun(Kind.KUBE_FERRY, Flavour.IPTABLES_NFT, 1000, Map.of(Quantity.START_TO_RULES, 2.0),
                        Optional.of("IllegalStateException: moved")),
                run(Kind.KUBE_PROXY, Flavour.IPTABLES_NFT, 10000, Map.of(Quantity.LATENCY_P50, 160.0, Quantity.LATENCY_P99, 400.0)),
                run(Kind.KUBE_FERRY, Flavour.IPTABLES_NFT, 10000, Map.of(Quantity.LATENCY_P50, 30.0, Quantity.LATENCY_P99, Double.NaN))),
                60);
        Figure legacy = figures.get(0);
        assertEquals(UpstreamFigures.FULL_SYNC, legacy.section());
        assertEquals("iptables-legacy", legacy.label());
        assertEquals(0.5, legacy.ratio().getAsDouble());
        assertEquals(true, legacy.targetMet().orElseThrow());
        Figure nft = figures.get(1);
        assertEquals(0.25, nft.ratio().getAsDouble());
        Figure p50 = figures.stream().filter(f -> f.services() == 1000 && f.label().equals("iptables-nft, p50")).findFirst().orElseThrow();
        assertEquals(Measure.missing("kube-ferry run failed: IllegalStateException: moved"), p50.kubeFerry());
        Figure p99 = figures.stream().filter(f -> f.services() == 10000 && f.label().equals("iptables-nft, p99")).findFirst().orElseThrow();
        assertEquals(Measure.missing("kube-ferry did not report it"), p99.kubeFerry());
        List<Figure> scaling = figures.stream().filter(f -> f.section().equals(UpstreamFigures.SCALING)).toList();
        assertEquals(List.of("iptables-nft, p50, 10,000 over 1,000 Services", "iptables-nft, p99, 10,000 over 1,000 Services"),
                scaling.stream().map(Figure::label).toList());
        assertEquals(Measure.of(2.0), scaling.get(0).kubeProxy());
        assertTrue(scaling.get(0).kubeFerry() instanceof Measure.Missing, "the failed run's p50 is missing: no ratio");
    }

    @Test
    void nftablesModeIsPairedOnItsOwnWithIssue12sGoalsAtTenThousand() {
        List<Figure> figures = UpstreamFigures.figures(List.of(
                run(Kind.KUBE_PROXY, Flavour.IPTABLES_NFT, 1000, Map.of(Quantity.START_TO_RULES, 4.0, Quantity.LATENCY_P50, 40.0)),
                run(Kind.KUBE_FERRY, Flavour.IPTABLES_NFT, 1000, Map.of(Quantity.START_TO_RULES, 2.0, Quantity.LATENCY_P50, 20.0)),
                run(Kind.KUBE_PROXY, Flavour.NFTABLES, 1000, Map.of(Quantity.START_TO_RULES, 3.0, Quantity.LATENCY_P50, 30.0)),
                run(Kind.KUBE_FERRY, Flavour.NFTABLES, 1000, Map.of(Quantity.START_TO_RULES, 1.0, Quantity.LATENCY_P50, 10.0)),
                run(Kind.KUBE_PROXY, Flavour.NFTABLES, 10000,
                        Map.of(Quantity.START_TO_RULES, 30.0, Quantity.LATENCY_P50, 90.0, Quantity.LATENCY_P99, 200.0)),
                run(Kind.KUBE_FERRY, Flavour.NFTABLES, 10000,
                        Map.of(Quantity.START_TO_RULES, 12.0, Quantity.LATENCY_P50, 30.0, Quantity.LATENCY_P99, 19.0))),
                60);
        Figure sync = figures.stream().filter(f -> f.services() == 10000 && f.label().equals("nftables")).findFirst().orElseThrow();
        assertEquals(0.4, sync.ratio().getAsDouble());
        assertEquals("<= 0.5x kube-proxy and kube-ferry's < 10 s", sync.target().orElseThrow().text());
        assertEquals(false, sync.targetMet().orElseThrow(), "12 s misses the 10 s goal though the ratio is met");
        Figure small = figures.stream().filter(f -> f.services() == 1000 && f.label().equals("nftables")).findFirst().orElseThrow();
        assertEquals("<= 0.5x kube-proxy", small.target().orElseThrow().text());
        Figure p99 = figures.stream().filter(f -> f.label().equals("nftables, p99")).findFirst().orElseThrow();
        assertEquals(true, p99.targetMet().orElseThrow(), "19 ms is under 50 ms and 0.095x");
        List<String> scaling = figures.stream().filter(f -> f.section().equals(UpstreamFigures.SCALING)).map(Figure::label).toList();
        assertEquals(List.of("nftables, p50, 10,000 over 1,000 Services", "nftables, p99, 10,000 over 1,000 Services"), scaling,
                "the iptables-nft runs have one size only: no scaling figure of theirs");
        Figure scale = figures.stream().filter(f -> f.label().startsWith("nftables, p50, 10,000")).findFirst().orElseThrow();
        assertEquals(Measure.of(3.0), scale.kubeFerry());
        assertEquals(false, scale.targetMet().orElseThrow());
    }
}
