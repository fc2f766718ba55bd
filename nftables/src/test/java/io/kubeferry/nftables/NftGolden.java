package io.kubeferry.nftables;

import io.kubeferry.proxy.testing.GoldenFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * nftables golden files: {@code src/test/resources/golden/<name>.txt}, the rendered transaction, after a header of
 * {@code #} lines that records the review against upstream (kept when the files are rewritten with
 * {@code -Dkubeferry.updateGolden=true}; nft itself reads {@code #} lines as comments).
 */
final class NftGolden {

    private static final Path DIR = Path.of("src/test/resources/golden");

    private NftGolden() {
    }

    static void check(String name, String actual) throws IOException {
        Path file = DIR.resolve(name + ".txt");
        String header = "";
        if (Files.exists(file)) {
            header = header(Files.readString(file));
        }
        if (Boolean.getBoolean(GoldenFiles.UPDATE)) {
            Files.createDirectories(DIR);
            Files.writeString(file, header + actual);
        }
        String text = Files.readString(file);
        assertEquals(text.substring(header(text).length()), actual, "golden file " + file);
    }

    /** The leading {@code #} lines. */
    static String header(String text) {
        int at = 0;
        while (text.startsWith("#", at)) {
            int nl = text.indexOf('\n', at);
            at = nl < 0 ? text.length() : nl + 1;
        }
        return text.substring(0, at);
    }

    private static final Map<String, Integer> ORDER = Map.of("table", 0, "chain", 1, "set", 2, "map", 3, "rule", 4, "element", 5);

    /**
     * A knftables-style dump in a canonical order, as upstream's sortNFTablesTransaction compares: blank and
     * {@code #} lines dropped, objects by kind then name; a chain's rules keep their order, elements sort.
     */
    static String canonical(String dump) {
        List<String> lines = new ArrayList<>();
        for (String line : dump.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                lines.add(line.strip());
            }
        }
        lines.sort(Comparator.<String>comparingInt(l -> ORDER.getOrDefault(word(l, 1), 9))
                .thenComparing(l -> word(l, 1).equals("table") ? "" : word(l, 4))
                .thenComparing(l -> word(l, 1).equals("rule") ? "" : l));
        return String.join("\n", lines) + "\n";
    }

    private static final java.util.regex.Pattern UPSTREAM_DISPATCH = java.util.regex.Pattern.compile(
            "(add rule ip6? kube-proxy \\S+) numgen random mod (\\d+) vmap \\{ (.*) }");

    /**
     * Upstream's expected dump with its per-Service {@code numgen random mod N vmap { 0 : goto A , ... }} written as
     * kube-ferry's cascade ({@link ServiceDispatch}: {@code numgen random mod N 0 goto A}, ..., {@code goto Z}), the
     * one deliberate difference of kube-ferry's layout; everything else of upstream's expectation stands as it is.
     */
    static String upstreamWithCascade(String dump) {
        StringBuilder out = new StringBuilder();
        for (String line : dump.split("\n")) {
            java.util.regex.Matcher m = UPSTREAM_DISPATCH.matcher(line.strip());
            if (!m.matches()) {
                out.append(line).append('\n');
                continue;
            }
            String[] branches = m.group(3).split(" , ");
            int n = Integer.parseInt(m.group(2));
            if (branches.length != n) {
                throw new IllegalArgumentException("numgen mod " + n + " with " + branches.length + " branches: " + line);
            }
            for (int i = 0; i < n; i++) {
                String target = branches[i].strip().replaceFirst("^" + i + " : goto ", "");
                out.append(m.group(1)).append(i < n - 1 ? " numgen random mod " + (n - i) + " 0 goto " : " goto ").append(target)
                        .append('\n');
            }
        }
        return out.toString();
    }

    private static String word(String line, int i) {
        String[] words = line.split(" ");
        return i < words.length ? words[i] : "";
    }
}
