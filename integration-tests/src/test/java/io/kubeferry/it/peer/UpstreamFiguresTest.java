package io.kubeferry.it.peer;

import io.kubeferry.it.peer.AgentConfig.Backend;
import io.kubeferry.it.peer.AgentProcess.Kind;
import io.kubeferry.it.peer.AgentRun.Quantity;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs to figures: pairs by size and flavour, missing values keep their reason, the scaling ratio per agent. */
class UpstreamFiguresTest {

    private static AgentRun run(Kind kind, Backend backend, int services, Map<Quantity, Double> values) {
        return new AgentRun(kind, backend, services, values, Optional.empty());
    }

    @Test
    void pairsTheAgentsOfOneSizeAndFlavour() {
        List<Figure> figures = UpstreamFigures.figures(List.of(
                run(Kind.KUBE_PROXY, Backend.LEGACY, 1000, Map.of(Quantity.START_TO_RULES, 2.0)),
                run(Kind.KUBE_FERRY, Backend.LEGACY, 1000, Map.of(Quantity.START_TO_RULES, 1.0)),
                run(Kind.KUBE_PROXY, Backend.NFT, 1000,
                        Map.of(Quantity.START_TO_RULES, 8.0, Quantity.LATENCY_P50, 80.0, Quantity.LATENCY_P99, 100.0)),
                new AgentRun(Kind.KUBE_FERRY, Backend.NFT, 1000, Map.of(Quantity.START_TO_RULES, 2.0),
                        Optional.of("IllegalStateException: moved")),
                run(Kind.KUBE_PROXY, Backend.NFT, 10000, Map.of(Quantity.LATENCY_P50, 160.0, Quantity.LATENCY_P99, 400.0)),
                run(Kind.KUBE_FERRY, Backend.NFT, 10000, Map.of(Quantity.LATENCY_P50, 30.0, Quantity.LATENCY_P99, Double.NaN))), 60);
        Figure legacy = figures.get(0);
        assertEquals(UpstreamFigures.FULL_SYNC, legacy.section());
        assertEquals("iptables-legacy", legacy.label());
        assertEquals(0.5, legacy.ratio().getAsDouble());
        assertEquals(true, legacy.targetMet().orElseThrow());
        Figure nft = figures.get(1);
        assertEquals(0.25, nft.ratio().getAsDouble());
        Figure p50 = figures.stream().filter(f -> f.services() == 1000 && f.label().equals("p50")).findFirst().orElseThrow();
        assertEquals(Measure.missing("kube-ferry run failed: IllegalStateException: moved"), p50.kubeFerry());
        Figure p99 = figures.stream().filter(f -> f.services() == 10000 && f.label().equals("p99")).findFirst().orElseThrow();
        assertEquals(Measure.missing("kube-ferry did not report it"), p99.kubeFerry());
        List<Figure> scaling = figures.stream().filter(f -> f.section().equals(UpstreamFigures.SCALING)).toList();
        assertEquals(List.of("p50, 10,000 over 1,000 Services", "p99, 10,000 over 1,000 Services"),
                scaling.stream().map(Figure::label).toList());
        assertEquals(Measure.of(2.0), scaling.get(0).kubeProxy());
        assertTrue(scaling.get(0).kubeFerry() instanceof Measure.Missing, "the failed run's p50 is missing: no ratio");
    }
}
