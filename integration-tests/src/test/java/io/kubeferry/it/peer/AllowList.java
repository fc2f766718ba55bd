package io.kubeferry.it.peer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The deliberate differences between kube-ferry's and upstream kube-proxy's rulesets: one entry per line,
 * {@code REGEX ## REASON}, matched against a whole {@link SavedRuleset.Difference} ({@code side table: line});
 * {@code #} lines are comments. Every reason also appears in the README's comparison with upstream.
 */
record AllowList(List<Entry> entries) {

    record Entry(Pattern pattern, String reason) {
    }

    static AllowList load(String resource) throws IOException {
        try (InputStream in = AllowList.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no allow-list resource " + resource);
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static AllowList parse(String text) {
        List<Entry> entries = new ArrayList<>();
        for (String line : text.lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int split = line.indexOf(" ## ");
            if (split < 0 || line.substring(split + 4).isBlank()) {
                throw new IllegalArgumentException("an allow-list entry is REGEX ## REASON: " + line);
            }
            entries.add(new Entry(Pattern.compile(line.substring(0, split).strip()), line.substring(split + 4).strip()));
        }
        return new AllowList(List.copyOf(entries));
    }

    /** The entry that allows {@code difference}, if any. */
    Optional<Entry> allowing(SavedRuleset.Difference difference) {
        String text = difference.toString();
        return entries.stream().filter(e -> e.pattern().matcher(text).matches()).findFirst();
    }
}
