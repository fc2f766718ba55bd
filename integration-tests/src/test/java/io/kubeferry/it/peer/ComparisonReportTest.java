package io.kubeferry.it.peer;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's Markdown and plots from a made-up set of figures (no root, no kernel). */
class ComparisonReportTest {

    private static final String SYNC = "Full sync: agent start to rules complete";
    private static final String LATENCY = "Network programming latency";

    static ComparisonReport sample() {
        return new ComparisonReport("kube-ferry against kube-proxy", List.of("Written by a test."), List.of(),
                List.of(new ComparisonReport.Mode("IPVS", "IPVS needs the guest kernel"),
                        new ComparisonReport.Mode("nftables", "kube-ferry has no nftables mode yet")),
                Map.of(SYNC, "From process start to the first complete ruleset."))
                .with(Figure.of(SYNC, "s", 1000, "iptables-legacy", Measure.of(1.0), Measure.of(4.0)).withTarget(Target.ratioAtMost(0.5)))
                .with(Figure.of(SYNC, "s", 1000, "iptables-nft", Measure.of(3.0), Measure.of(4.0)).withTarget(Target.ratioAtMost(0.5)))
                .with(Figure.of(SYNC, "s", 10000, "iptables-legacy", Measure.of(12.0), Measure.missing("kube-proxy timed out after 900 s"))
                        .withTarget(Target.ratioAtMost(0.5)))
                .with(new Figure(LATENCY, "ms", 1000, "p99", Measure.of(30), Measure.of(900), java.util.Optional.empty(),
                        Map.of("IPVS", 0.25)))
                .with(Figure.of(LATENCY, "ms", 1000, "idle CPU", Measure.of(0.05), Measure.of(0)));
    }

    @Test
    void everyFigureHasBothAgentsTheRatioAndTheTarget() {
        ComparisonReport report = sample();
        String md = ReportMarkdown.render(report, ReportPlots.plots(report, "upstream"));
        assertTrue(md.contains("| 1,000 | iptables-legacy | s | 1.00 | 4.00 | 0.25x | <= 0.5x kube-proxy | yes | n/a [1] | n/a [2] |"), md);
        assertTrue(md.contains("| 1,000 | iptables-nft | s | 3.00 | 4.00 | 0.75x | <= 0.5x kube-proxy | **no** |"), md);
        assertTrue(md.contains("| 10,000 | iptables-legacy | s | 12.0 | n/a [3] |  | <= 0.5x kube-proxy | unknown |"), md);
        assertTrue(md.contains("| 1,000 | p99 | ms | 30.0 | 900 | 0.033x |  |  | 0.25x | n/a [2] |"), md);
        assertTrue(md.contains("| 1,000 | idle CPU | ms | 0.050 | 0.00 | n/a [4] |"), md);
        assertTrue(md.contains("## " + SYNC + "\n\nFrom process start to the first complete ruleset.\n\n| Services"), md);
        assertTrue(md.contains(
                "1. IPVS needs the guest kernel\n2. kube-ferry has no nftables mode yet\n3. kube-proxy timed out after 900 s\n4. no ratio: kube-proxy's value is 0\n"),
                md);
        assertTrue(md.contains("![" + SYNC + ", 10,000 Services](upstream-full-sync-agent-start-to-rules-complete-10000.png)"), md);
        assertTrue(md.indexOf("## " + SYNC) < md.indexOf("## " + LATENCY), "sections in the order measured");
    }

    @Test
    void aTargetOnKubeFerrysOwnValue() {
        Figure scaling = Figure.of("Scaling", "x", 10000, "p50 at 10,000 / at 1,000", Measure.of(1.5), Measure.of(3.0))
                .withTarget(Target.kubeFerryAtMost(2, "kube-ferry <= 2x"));
        assertEquals(true, scaling.targetMet().orElseThrow());
        assertFalse(Figure.of("Scaling", "x", 10000, "p50", Measure.of(2.5), Measure.of(1.0))
                .withTarget(Target.kubeFerryAtMost(2, "kube-ferry <= 2x")).targetMet().orElseThrow());
    }

    @Test
    void oneChartPerSectionAndSizeWithBothAgents() throws Exception {
        List<ReportPlots.Plot> plots = ReportPlots.plots(sample(), "upstream");
        assertEquals(List.of("upstream-full-sync-agent-start-to-rules-complete-1000.png",
                "upstream-full-sync-agent-start-to-rules-complete-10000.png", "upstream-network-programming-latency-1000.png"),
                plots.stream().map(ReportPlots.Plot::file).toList());
        assertEquals(List.of(1.0, 3.0), plots.get(0).kubeFerry());
        assertEquals(java.util.Arrays.asList((Double) null), plots.get(1).kubeProxy(), "a missing value draws no bar");
        Path dir = Path.of("target", "report-test");
        for (ReportPlots.Plot plot : plots) {
            Path png = ReportPlots.write(plot, dir);
            BufferedImage image = ImageIO.read(png.toFile());
            assertEquals(900, image.getWidth(), png.toString());
            assertTrue(Files.size(png) > 5_000, png + " holds a drawing");
        }
    }
}
