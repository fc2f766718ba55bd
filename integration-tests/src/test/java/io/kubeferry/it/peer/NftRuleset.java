package io.kubeferry.it.peer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code nft list table FAMILY NAME} made comparable, as a {@link SavedRuleset} so the same diff and allow-list
 * apply: one table ({@code FAMILY NAME}); per chain, set and map (sorted by kind and name, e.g. {@code chain
 * services}) its properties (type, hook, priority, policy, flags, timeout, comment) as the "policy", and as its
 * lines, each prefixed with the object's name: a chain's rules in kernel order (order is meaning in a chain) with
 * counters dropped, a set's or map's elements sorted (the kernel lists them in hash order). Handles are not
 * listed without {@code -a}.
 */
final class NftRuleset {

    private NftRuleset() {
    }

    static SavedRuleset parse(String listing) {
        Map<String, Map<String, SavedRuleset.Chain>> tables = new TreeMap<>();
        Map<String, SavedRuleset.Chain> table = null;
        String object = null;
        List<String> properties = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        StringBuilder elements = null;
        for (String raw : listing.lines().toList()) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (elements != null) {
                elements.append(' ').append(line);
                if (closes(elements)) {
                    lines.addAll(elements(object, elements.toString()));
                    elements = null;
                }
                continue;
            }
            if (table == null || object == null && line.startsWith("table ")) {
                if (!line.startsWith("table ") || !line.endsWith("{")) {
                    throw new IllegalArgumentException("not an nft table listing: " + line);
                }
                table = tables.computeIfAbsent(line.substring(6, line.length() - 1).strip(), t -> new TreeMap<>());
            } else if (object == null && line.equals("}")) {
                table = null;
            } else if (object == null && line.matches("(chain|set|map|flowtable|counter|quota) \\S+ \\{")) {
                object = line.substring(0, line.length() - 1).strip();
            } else if (object == null) {
                table.put("(table)", new SavedRuleset.Chain(line, List.of()));
            } else if (line.equals("}")) {
                table.put(object, new SavedRuleset.Chain(String.join("; ", properties), List.copyOf(lines)));
                object = null;
                properties.clear();
                lines.clear();
            } else if (line.startsWith("elements = {")) {
                elements = new StringBuilder(line);
                if (closes(elements)) {
                    lines.addAll(elements(object, elements.toString()));
                    elements = null;
                }
            } else if (object.startsWith("chain ") && !isProperty(line)) {
                lines.add(object + ": " + line.replaceAll(" ?counter packets \\d+ bytes \\d+", "").strip());
            } else {
                properties.add(line.replaceAll("\\s*;\\s*$", ""));
            }
        }
        if (table != null || object != null) {
            throw new IllegalArgumentException("the nft listing ends inside a block");
        }
        return new SavedRuleset(tables);
    }

    /** A chain's header lines ({@code type ... hook ...; policy ...;}, {@code comment "..."}), not rules. */
    private static boolean isProperty(String line) {
        return line.startsWith("type ") || line.startsWith("comment \"") && !line.contains(" jump ") && !line.contains(" goto ");
    }

    private static boolean closes(StringBuilder elements) {
        return unquotedDepth(elements.toString()) == 0;
    }

    /** Brace depth outside quotes. */
    private static int unquotedDepth(String text) {
        int depth = 0;
        boolean quoted = false;
        for (char c : text.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && c == '{') {
                depth++;
            } else if (!quoted && c == '}') {
                depth--;
            }
        }
        return depth;
    }

    /** A comma outside quotes: where one element of a listing ends. */
    private static final String ELEMENT_SEPARATOR = ",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)";

    /** The elements of {@code elements = { a, b, ... }}, one line each, sorted; commas inside quotes kept. */
    private static List<String> elements(String object, String block) {
        String body = block.substring(block.indexOf('{') + 1, block.lastIndexOf('}'));
        List<String> out = new ArrayList<>();
        for (String one : body.split(ELEMENT_SEPARATOR)) {
            if (!one.isBlank()) {
                out.add(element(object, one));
            }
        }
        out.sort(null);
        return out;
    }

    /** One element as a line; an affinity element's remaining time ({@code expires 2h59m58s}) dropped, like a counter. */
    private static String element(String object, String text) {
        return object + ": element " + text.strip().replaceAll("\\s+", " ").replaceAll(" expires \\S+", "");
    }
}
