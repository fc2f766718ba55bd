package io.kubeferry.it.peer;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report's bar charts: one per section and cluster size, a bar pair (kube-ferry, kube-proxy) per figure.
 * {@link #plots} is pure (which charts, what they hold, their file names); {@link #write} draws one with XChart,
 * headless (no display is needed: the JVM runs with java.awt.headless=true).
 */
final class ReportPlots {

    static final String KUBE_FERRY = "kube-ferry";
    static final String KUBE_PROXY = "kube-proxy";
    // Light enough for black value labels inside the bars.
    private static final Color KUBE_FERRY_COLOR = new Color(0x6baed6);
    private static final Color KUBE_PROXY_COLOR = new Color(0xfdae6b);

    /**
     * One chart. A missing value is {@code null}: no bar and no label (its reason is in the table).
     * {@code file} is a bare file name, the same one the Markdown links.
     */
    record Plot(String section, int services, String file, String title, String unit, List<String> categories, List<Double> kubeFerry,
            List<Double> kubeProxy) {

        Plot {
            categories = List.copyOf(categories);
            kubeFerry = Collections.unmodifiableList(new ArrayList<>(kubeFerry));
            kubeProxy = Collections.unmodifiableList(new ArrayList<>(kubeProxy));
        }
    }

    private ReportPlots() {
    }

    /** The charts of {@code report}, in table order; file names start with {@code prefix}. */
    static List<Plot> plots(ComparisonReport report, String prefix) {
        List<Plot> plots = new ArrayList<>();
        for (String section : report.sections()) {
            Map<Integer, List<Figure>> bySize = new LinkedHashMap<>();
            for (Figure f : report.in(section)) {
                bySize.computeIfAbsent(f.services(), s -> new ArrayList<>()).add(f);
            }
            bySize.forEach((services, figures) -> plots.add(new Plot(section, services,
                    prefix + "-" + slug(section) + "-" + services + ".png",
                    section + ", " + String.format(Locale.ROOT, "%,d", services) + " Services",
                    figures.get(0).unit(),
                    figures.stream().map(Figure::label).toList(),
                    figures.stream().map(f -> orNull(f.kubeFerry())).toList(),
                    figures.stream().map(f -> orNull(f.kubeProxy())).toList())));
        }
        return plots;
    }

    /** Draws {@code plot} as {@code dir/plot.file()}. */
    static Path write(Plot plot, Path dir) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(900).height(480).title(plot.title())
                .xAxisTitle("").yAxisTitle(plot.unit()).build();
        CategoryStyler styler = chart.getStyler();
        // Below the plot, where it never covers a bar.
        styler.setLegendPosition(Styler.LegendPosition.OutsideS);
        styler.setLegendLayout(Styler.LegendLayout.Horizontal);
        styler.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        styler.setSeriesColors(new Color[] {KUBE_FERRY_COLOR, KUBE_PROXY_COLOR});
        styler.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        styler.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        styler.setYAxisMin(0.0);
        // Long labels ("through ClusterIP", "own metric, mean") stay readable at a slant.
        styler.setXAxisLabelRotation(plot.categories().stream().mapToInt(String::length).sum() > 60 ? 15 : 0);
        // Each bar carries its value, so the chart reads without the table.
        styler.setLabelsVisible(true);
        styler.setLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        styler.setLabelsFontColorAutomaticEnabled(false);
        styler.setLabelsFontColor(Color.BLACK);
        styler.setLabelsPosition(1.0);
        styler.setAvailableSpaceFill(0.7);
        styler.setDecimalPattern(decimalPattern(plot));
        chart.addSeries(KUBE_FERRY, plot.categories(), plot.kubeFerry());
        chart.addSeries(KUBE_PROXY, plot.categories(), plot.kubeProxy());
        Files.createDirectories(dir);
        Path file = dir.resolve(plot.file());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }

    /** Bar labels with as many decimals as the chart's largest value needs (0.012 s, 4.4 s, 248 MiB). */
    private static String decimalPattern(Plot plot) {
        double max = 0;
        for (List<Double> values : List.of(plot.kubeFerry(), plot.kubeProxy())) {
            for (Double v : values) {
                max = v == null ? max : Math.max(max, Math.abs(v));
            }
        }
        return max >= 100 ? "#,##0" : max >= 10 ? "#,##0.0" : max >= 1 ? "0.00" : "0.000";
    }

    private static Double orNull(Measure m) {
        return m.value().isPresent() ? m.value().getAsDouble() : null;
    }

    static String slug(String text) {
        return text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
    }
}
