package io.kubeferry.proxy.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compares a /metrics body with the list of upstream kube-proxy metrics checked in as
 * upstream-kube-proxy-metrics.txt (names, types, labels per mode; see the file's header for its source).
 */
public final class UpstreamMetrics {

    /** One metric upstream exposes. */
    public record Expected(String name, String type, Set<String> labels, Set<String> modes, boolean conditional) {
    }

    /** One metric family found in an exposition. */
    public record Family(String name, String type, Set<String> labels) {
    }

    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final List<String> SAMPLE_SUFFIXES = List.of("", "_bucket", "_sum", "_count");

    private UpstreamMetrics() {
    }

    /** The expected metrics of one mode. */
    public static List<Expected> expected(String mode) {
        return load().stream().filter(e -> e.modes().contains(mode)).toList();
    }

    /** The upstream metrics kube-ferry does not expose, each with its reason. */
    public static Map<String, String> exceptions() {
        Map<String, String> out = new TreeMap<>();
        for (String line : lines()) {
            if (line.startsWith("exception ")) {
                String rest = line.substring("exception ".length());
                int colon = rest.indexOf(':');
                out.put(rest.substring(0, colon).trim(), rest.substring(colon + 1).trim());
            }
        }
        return out;
    }

    private static List<Expected> load() {
        List<Expected> out = new ArrayList<>();
        for (String line : lines()) {
            if (line.startsWith("exception ")) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            if (f.length < 4) {
                throw new IllegalStateException("bad line in the upstream metrics list: " + line);
            }
            Set<String> labels = f[2].equals("-") ? Set.of() : Set.of(f[2].split(","));
            out.add(new Expected(f[0], f[1], labels, Set.of(f[3].split(",")), f.length > 4 && f[4].equals("conditional")));
        }
        return out;
    }

    private static List<String> lines() {
        try (InputStream in = UpstreamMetrics.class.getResourceAsStream("/upstream-kube-proxy-metrics.txt")) {
            if (in == null) {
                throw new IllegalStateException("upstream-kube-proxy-metrics.txt is not on the test classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The families of a Prometheus text exposition: TYPE lines give name and type, samples give labels. */
    public static Map<String, Family> parse(String exposition) {
        Map<String, String> types = new TreeMap<>();
        for (String line : exposition.lines().toList()) {
            if (line.startsWith("# TYPE ")) {
                String[] f = line.split(" ");
                types.put(f[2], f[3]);
            }
        }
        Map<String, Set<String>> labels = new TreeMap<>();
        types.keySet().forEach(n -> labels.put(n, new TreeSet<>()));
        for (String line : exposition.lines().toList()) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            String sample = brace >= 0 && brace < space ? line.substring(0, brace) : line.substring(0, space);
            String family = familyOf(sample, types.keySet());
            if (family == null) {
                throw new AssertionError("sample without a TYPE line: " + line);
            }
            if (brace >= 0 && brace < space) {
                Matcher m = LABEL.matcher(line.substring(brace, line.indexOf('}', brace)));
                while (m.find()) {
                    if (!m.group(1).equals("le") && !m.group(1).equals("quantile")) {
                        labels.get(family).add(m.group(1));
                    }
                }
            }
        }
        Map<String, Family> out = new TreeMap<>();
        types.forEach((name, type) -> out.put(name, new Family(name, type, Set.copyOf(labels.get(name)))));
        return out;
    }

    private static String familyOf(String sample, Set<String> families) {
        for (String suffix : SAMPLE_SUFFIXES) {
            if (sample.endsWith(suffix)) {
                String base = sample.substring(0, sample.length() - suffix.length());
                if (families.contains(base)) {
                    return base;
                }
            }
        }
        return null;
    }

    /**
     * Every way the exposition differs from upstream's list for the mode: an expected metric missing (unless
     * conditional), exposed with another type or other labels, an exception exposed after all, or a
     * kubeproxy_* metric upstream does not have.
     */
    public static List<String> differences(String exposition, String mode) {
        Map<String, Family> exposed = parse(exposition);
        List<String> problems = new ArrayList<>();
        Set<String> known = new TreeSet<>();
        for (Expected e : expected(mode)) {
            known.add(e.name());
            Family f = exposed.get(e.name());
            if (f == null) {
                if (!e.conditional()) {
                    problems.add("missing: " + e.name());
                }
                continue;
            }
            if (!f.type().equals(e.type())) {
                problems.add(e.name() + ": type " + f.type() + ", upstream " + e.type());
            }
            if (!f.labels().equals(e.labels())) {
                problems.add(e.name() + ": labels " + new TreeSet<>(f.labels()) + ", upstream " + new TreeSet<>(e.labels()));
            }
        }
        for (String name : exceptions().keySet()) {
            if (exposed.containsKey(name)) {
                problems.add("listed as an exception but exposed: " + name);
            }
        }
        for (String name : exposed.keySet()) {
            if (name.startsWith("kubeproxy_") && !known.contains(name)) {
                problems.add("not an upstream " + mode + " metric: " + name);
            }
        }
        return problems;
    }

    /** The value of one sample, e.g. {@code value(text, "kubeproxy_proxy_healthz_total", "code", "200")}; NaN if absent. */
    public static double value(String exposition, String name, String... labelPairs) {
        for (String line : exposition.lines().toList()) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                boolean all = true;
                for (int i = 0; i < labelPairs.length; i += 2) {
                    all &= line.contains(labelPairs[i] + "=\"" + labelPairs[i + 1] + "\"");
                }
                if (all) {
                    String[] f = line.split(" ");
                    return Double.parseDouble(f[f.length - 1]);
                }
            }
        }
        return Double.NaN;
    }
}
