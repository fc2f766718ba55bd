package io.kubeferry.nftables;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One table as the kernel holds it, read from {@code nft -j list table FAMILY NAME}: its chains (a base chain's
 * hook, every chain's rules printed by {@link NftRuleText}), its sets and maps, and their elements in the form
 * {@link ElementDiff} keeps them (key text to value text with its comment). What kube-ferry never writes is kept as
 * a reason ({@link #notUnderstood}) instead of being guessed at, so the caller can fall back to a full refill.
 *
 * @param chains        every chain by name, in the kernel's order
 * @param containers    every set and map by name
 * @param elements      the elements of each set and map whose elements are listed (not a dynamic set's: those are
 *                      the kernel's, e.g. affinity entries, never written by a sync)
 * @param notUnderstood the first thing in the listing kube-ferry does not write, or null
 * @param upstreamDispatch a chain of upstream kube-proxy's per-Service {@code numgen ... vmap { }} dispatch, or null
 */
record NftKernelTable(Map<String, Chain> chains, Map<String, NftObject.Container> containers, Map<String, Map<String, String>> elements,
        String notUnderstood, String upstreamDispatch) {

    /** A chain: its hook (null for a regular chain) and its rules as {@link NftRuleText} prints them (null: not understood). */
    record Chain(String name, NftObject.Base base, List<String> rules) {
    }

    NftKernelTable {
        chains = Collections.unmodifiableMap(chains);
        containers = Collections.unmodifiableMap(containers);
        elements = Collections.unmodifiableMap(elements);
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> IGNORED = Set.of("metainfo", "table");

    /**
     * Parses one table's listing, streaming (at 10,000 Services it is about 60 MB: one object of the
     * {@code nftables} array at a time, never the whole tree).
     *
     * @throws IllegalArgumentException when it is not nft's JSON listing of that table
     */
    static NftKernelTable parse(String json, String family, String table) {
        Map<String, Chain> chains = new LinkedHashMap<>();
        Map<String, List<String>> rules = new HashMap<>();
        Map<String, NftObject.Container> containers = new LinkedHashMap<>();
        Map<String, Map<String, String>> elements = new HashMap<>();
        String[] notUnderstood = {null};
        String upstream = null;
        boolean sawTable = false;
        try (JsonParser p = new JsonFactory(JSON).createParser(json)) {
            expect(p.nextToken() == JsonToken.START_OBJECT && p.nextToken() == JsonToken.FIELD_NAME && "nftables".equals(p.currentName())
                    && p.nextToken() == JsonToken.START_ARRAY, "no \"nftables\" array");
            while (p.nextToken() == JsonToken.START_OBJECT) {
                JsonNode item = p.readValueAsTree();
                expect(item.size() == 1, "an object of the nftables array with " + item.size() + " fields");
                String kind = item.fieldNames().next();
                JsonNode o = item.path(kind);
                if (!kind.equals("metainfo")) {
                    expect(family.equals(o.path("family").asText()), kind + " of family " + o.path("family").asText());
                    String owner = kind.equals("table") ? o.path("name").asText() : o.path("table").asText();
                    expect(table.equals(owner), kind + " of table " + owner);
                }
                switch (kind) {
                    case "table" -> sawTable = true;
                    case "chain" -> {
                        String name = text(o, "name");
                        NftObject.Base base = o.has("hook")
                                ? new NftObject.Base(text(o, "type"), text(o, "hook"), o.path("prio").asInt())
                                : null;
                        if (base != null && !"accept".equals(o.path("policy").asText("accept"))) {
                            note(notUnderstood, "base chain " + name + " with policy " + o.path("policy").asText());
                        }
                        List<String> list = new ArrayList<>();
                        rules.put(name, list);
                        chains.put(name, new Chain(name, base, list));
                    }
                    case "rule" -> {
                        String chain = text(o, "chain");
                        List<String> list = rules.get(chain);
                        expect(list != null, "a rule of chain " + chain + " listed before the chain");
                        String text = NftRuleText.print(o.path("expr"), o.path("comment").isTextual() ? o.path("comment").asText() : null);
                        if (text == null) {
                            if (upstream == null && upstreamDispatch(o.path("expr"))) {
                                upstream = chain;
                            }
                            note(notUnderstood, "rule " + list.size() + " of chain " + chain + ": " + o.path("expr"));
                        }
                        list.add(text);
                    }
                    case "set", "map" -> container(kind.equals("map"), o, containers, elements, notUnderstood);
                    default -> {
                        if (!IGNORED.contains(kind)) {
                            note(notUnderstood, "a " + kind + " object");
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("not nft's JSON: " + e.getMessage(), e);
        }
        expect(sawTable, "no table " + family + " " + table + " in the listing");
        return new NftKernelTable(chains, containers, elements, notUnderstood[0], upstream);
    }

    private static void container(boolean map, JsonNode o, Map<String, NftObject.Container> containers,
            Map<String, Map<String, String>> elements, String[] notUnderstood) {
        String name = text(o, "name");
        String type = typeText(o.path("type"));
        if (map) {
            type = type + " : " + (o.path("map").isTextual() ? o.path("map").asText() : typeText(o.path("map")));
        }
        List<String> flags = new ArrayList<>();
        o.path("flags").forEach(f -> flags.add(f.asText()));
        if (o.path("flags").isTextual()) {
            flags.add(o.path("flags").asText());
        }
        long timeout = o.path("timeout").asLong(0);
        containers.put(name, new NftObject.Container(map, name, type, flags, timeout,
                o.path("comment").isTextual() ? o.path("comment").asText() : null));
        if (flags.contains("dynamic") || flags.contains("timeout") || flags.contains("interval")) {
            // Filled by the packet path (affinity), or with ranges: never diffed element by element.
            return;
        }
        Map<String, String> elems = new HashMap<>();
        for (JsonNode e : o.path("elem")) {
            JsonNode key = map ? e.path(0) : e;
            String comment = null;
            if (key.isObject() && key.has("elem")) {
                comment = key.path("elem").path("comment").isTextual() ? key.path("elem").path("comment").asText() : null;
                key = key.path("elem").path("val");
            }
            String keyText = NftRuleText.expression(key);
            String value = map ? verdict(e.path(1)) : "";
            if (keyText == null || value == null || (map && !(e.isArray() && e.size() == 2))) {
                note(notUnderstood, "element " + e + " of " + name);
                continue;
            }
            elems.put(keyText, comment == null ? value : value + " comment \"" + comment + "\"");
        }
        elements.put(name, elems);
    }

    /** A verdict map's value as the renderer writes it: {@code goto CHAIN}, {@code drop}. */
    private static String verdict(JsonNode v) {
        if (!v.isObject() || v.size() != 1) {
            return null;
        }
        String word = v.fieldNames().next();
        JsonNode arg = v.path(word);
        if ((word.equals("goto") || word.equals("jump")) && arg.path("target").isTextual()) {
            return word + " " + arg.path("target").asText();
        }
        return Set.of("drop", "accept", "return", "continue").contains(word) && arg.isNull() ? word : null;
    }

    /**
     * A set's or map's type as {@code nft -j} lists it (nft 1.0.6): a {@code typeof} key by the types of its
     * expressions, {@code numgen} being {@code integer} (ServiceDispatch's slot map lists as
     * {@code integer . integer : verdict}); any other type as written.
     */
    static String listedType(String type) {
        if (!type.startsWith("typeof ")) {
            return type;
        }
        String[] keyValue = type.substring("typeof ".length()).split(" : ", 2);
        List<String> parts = new ArrayList<>();
        for (String expression : keyValue[0].split(" \\. ")) {
            parts.add(expression.startsWith("numgen ") ? "integer" : expression);
        }
        return String.join(" . ", parts) + (keyValue.length == 2 ? " : " + keyValue[1] : "");
    }

    private static String typeText(JsonNode type) {
        if (type.isArray()) {
            List<String> parts = new ArrayList<>();
            type.forEach(t -> parts.add(t.asText()));
            return String.join(" . ", parts);
        }
        return type.asText();
    }

    /** Upstream's dispatch: {@code numgen random mod N vmap { 0 : goto endpoint-..., ... }}, a map in the rule itself. */
    private static boolean upstreamDispatch(JsonNode expr) {
        for (JsonNode s : expr) {
            JsonNode vmap = s.path("vmap");
            if (vmap.path("key").has("numgen") && vmap.path("data").isObject()) {
                return true;
            }
        }
        return false;
    }

    private static String text(JsonNode o, String field) {
        expect(o.path(field).isTextual(), "no " + field + " in " + o);
        return o.path(field).asText();
    }

    private static void note(String[] first, String what) {
        if (first[0] == null) {
            first[0] = what.length() > 300 ? what.substring(0, 300) + "..." : what;
        }
    }

    private static void expect(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException(what);
        }
    }
}
