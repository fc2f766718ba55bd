package io.kubeferry.it.peer;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's results: kube-ferry against upstream kube-proxy, figure by figure, in the order measured.
 * {@code header} holds the lines written above the tables (how the figures were made, the exact command);
 * {@code modes} are the columns for later modes, each with the reason it is not run yet when it is not;
 * {@code descriptions} says, per section title, what its figures measure (written under its heading).
 */
record ComparisonReport(String title, List<String> header, List<Figure> figures, List<Mode> modes, Map<String, String> descriptions) {

    /** A column for another proxy mode; {@code notRun} says why its cells are empty (blank once it runs). */
    record Mode(String column, String notRun) {
    }

    ComparisonReport {
        header = List.copyOf(header);
        figures = List.copyOf(figures);
        modes = List.copyOf(modes);
        descriptions = Map.copyOf(descriptions);
    }

    ComparisonReport with(Figure figure) {
        List<Figure> more = new ArrayList<>(figures);
        more.add(figure);
        return new ComparisonReport(title, header, more, modes, descriptions);
    }

    /** Sections in the order their first figure was added. */
    List<String> sections() {
        LinkedHashSet<String> sections = new LinkedHashSet<>();
        figures.forEach(f -> sections.add(f.section()));
        return List.copyOf(sections);
    }

    List<Figure> in(String section) {
        return figures.stream().filter(f -> f.section().equals(section)).toList();
    }
}
