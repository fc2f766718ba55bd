package io.kubeferry.it.peer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * The report as Markdown: per section one table (every figure with a kube-ferry column, a kube-proxy column,
 * their ratio, the target and whether it is met, then a column per later mode) followed by its charts. A cell
 * without a value reads "n/a" with a numbered note giving the reason, listed at the end. Pure: text in, text out.
 */
final class ReportMarkdown {

    private ReportMarkdown() {
    }

    static String render(ComparisonReport report, List<ReportPlots.Plot> plots) {
        Notes notes = new Notes();
        StringBuilder md = new StringBuilder("# ").append(report.title()).append("\n\n");
        for (String line : report.header()) {
            md.append(line).append('\n');
        }
        md.append('\n');
        for (String section : report.sections()) {
            md.append("## ").append(section).append("\n\n");
            String description = report.descriptions().get(section);
            if (description != null) {
                md.append(description).append("\n\n");
            }
            md.append("| Services | figure | unit | kube-ferry | kube-proxy | kube-ferry/kube-proxy | target | target met? |");
            report.modes().forEach(m -> md.append(' ').append(m.column()).append(" |"));
            md.append("\n|---:|---|---|---:|---:|---:|---|---|");
            report.modes().forEach(m -> md.append("---:|"));
            md.append('\n');
            for (Figure f : report.in(section)) {
                md.append("| ").append(String.format(Locale.ROOT, "%,d", f.services()))
                        .append(" | ").append(f.label())
                        .append(" | ").append(f.unit())
                        .append(" | ").append(cell(f.kubeFerry(), notes))
                        .append(" | ").append(cell(f.kubeProxy(), notes))
                        .append(" | ").append(ratio(f, notes))
                        .append(" | ").append(f.target().map(Target::text).orElse(""))
                        .append(" | ")
                        .append(f.target().isEmpty() ? "" : f.targetMet().map(met -> met ? "yes" : "**no**").orElse("unknown"))
                        .append(" |");
                for (ComparisonReport.Mode mode : report.modes()) {
                    Double r = f.otherModes().get(mode.column());
                    md.append(' ').append(r != null ? ratio(OptionalDouble.of(r)) : "n/a" + notes.ref(mode.notRun())).append(" |");
                }
                md.append('\n');
            }
            md.append('\n');
            for (ReportPlots.Plot plot : plots) {
                if (plot.section().equals(section)) {
                    md.append("![").append(plot.title()).append("](").append(plot.file()).append(")\n");
                }
            }
            md.append('\n');
        }
        if (!notes.reasons.isEmpty()) {
            md.append("## Notes\n\n");
            for (int i = 0; i < notes.reasons.size(); i++) {
                md.append(i + 1).append(". ").append(notes.reasons.get(i)).append('\n');
            }
        }
        return md.toString();
    }

    /** A value with as many decimals as its size needs; 1,234 for big ones. */
    static String number(double v) {
        double a = Math.abs(v);
        String pattern = a >= 100 ? "%,.0f" : a >= 10 ? "%.1f" : a >= 0.1 || a == 0 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, pattern, v);
    }

    private static String ratio(OptionalDouble r) {
        return r.isPresent() ? number(r.getAsDouble()) + "x" : "";
    }

    /** The ratio; with both measured but kube-proxy's at zero, "n/a" and why (an empty cell would read as a gap). */
    private static String ratio(Figure f, Notes notes) {
        if (f.ratio().isEmpty() && f.kubeFerry().value().isPresent() && f.kubeProxy().value().isPresent()) {
            return "n/a" + notes.ref("no ratio: kube-proxy's value is 0");
        }
        return ratio(f.ratio());
    }

    private static String cell(Measure m, Notes notes) {
        return m instanceof Measure.Missing missing ? "n/a" + notes.ref(missing.reason()) : number(m.value().getAsDouble());
    }

    /** Reasons numbered in order of first use; the same reason keeps its number. */
    private static final class Notes {

        private final List<String> reasons = new ArrayList<>();

        String ref(String reason) {
            int i = reasons.indexOf(reason);
            if (i < 0) {
                reasons.add(reason);
                i = reasons.size() - 1;
            }
            return " [" + (i + 1) + "]";
        }
    }
}
