package io.kubeferry.nftables;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Compiles a rule's text, as {@link NftablesRenderer} writes it, into the {@code expr} array {@code nft -j list}
 * prints for it (nft 1.0.6 on kernel 6.18: {@code ct state new} as an {@code in} match, a bare {@code reject} as
 * icmp port-unreachable (icmpv6 in an ip6 table), a one-member anonymous set as the member, masks as decimal numbers,
 * {@code dnat to [2001:db8::5]:80} as the bare address and the port), so {@link FakeNft} can
 * answer {@code nft -j list table} the way the real one does. Only the renderer's expressions; anything else throws,
 * as a test should fail on a rule the fake cannot list.
 */
final class NftRuleJson {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final Set<String> VERDICTS = Set.of("drop", "accept", "return", "continue");

    private final List<String> words;
    /** The table's family: what a bare reject is. */
    private final String family;
    private int at;

    private NftRuleJson(String text, String family) {
        this.family = family;
        List<String> out = new ArrayList<>();
        for (String w : text.replace(",", " , ").trim().split("\\s+")) {
            out.add(w);
        }
        this.words = out;
    }

    static ArrayNode compile(String text, String family) {
        NftRuleJson c = new NftRuleJson(text, family);
        ArrayNode expr = F.arrayNode();
        while (c.at < c.words.size()) {
            expr.add(c.statement());
        }
        return expr;
    }

    /** A map element's or set element's key part: a port is a number, anything else a string. */
    static JsonNode atom(String word) {
        if (word.matches("[0-9]+")) {
            return F.numberNode(Long.parseLong(word));
        }
        if (word.startsWith("0x")) {
            return F.numberNode(Long.parseLong(word.substring(2), 16));
        }
        int slash = word.indexOf('/');
        boolean v4 = slash > 0 && word.substring(0, slash).matches("[0-9.]+");
        boolean v6 = slash > 0 && word.substring(0, slash).matches("[0-9a-f:]+") && word.indexOf(':') < slash;
        if ((v4 && word.endsWith("/32")) || (v6 && word.endsWith("/128"))) {
            // As the kernel lists it: a one-address prefix is the address.
            return F.textNode(word.substring(0, slash));
        }
        if ((v4 || v6) && word.substring(slash + 1).matches("[0-9]+")) {
            ObjectNode prefix = F.objectNode();
            prefix.putObject("prefix").put("addr", word.substring(0, slash)).put("len", Integer.parseInt(word.substring(slash + 1)));
            return prefix;
        }
        return F.textNode(word);
    }

    /** A verdict as a verdict map's value: {@code goto X}, {@code drop}. */
    static JsonNode verdict(String text) {
        NftRuleJson c = new NftRuleJson(text, "ip");
        JsonNode v = c.statement();
        if (c.at != c.words.size()) {
            throw new IllegalArgumentException("not a verdict: " + text);
        }
        return v;
    }

    private String next() {
        if (at >= words.size()) {
            throw new IllegalArgumentException("rule ends early: " + String.join(" ", words));
        }
        return words.get(at++);
    }

    private String peek() {
        return at < words.size() ? words.get(at) : "";
    }

    private JsonNode statement() {
        String w = peek();
        ObjectNode s = F.objectNode();
        if (w.equals("jump") || w.equals("goto")) {
            next();
            s.putObject(w).put("target", next());
            return s;
        }
        if (VERDICTS.contains(w)) {
            next();
            s.putNull(w);
            return s;
        }
        switch (w) {
            case "reject" -> {
                next();
                s.putObject("reject").put("type", family.equals("ip6") ? "icmpv6" : "icmp").put("expr", "port-unreachable");
                return s;
            }
            case "masquerade" -> {
                next();
                if (peek().equals("fully-random") || peek().equals("random") || peek().equals("persistent")) {
                    s.putObject("masquerade").put("flags", next());
                } else {
                    s.putNull("masquerade");
                }
                return s;
            }
            case "dnat" -> {
                next();
                expect("to");
                String to = next();
                // An IPv6 address with a port is bracketed; without one it has colons of its own.
                int colon = to.startsWith("[") ? to.indexOf("]:") + 1 : to.indexOf(':') == to.lastIndexOf(':') ? to.lastIndexOf(':') : -1;
                String addr = colon < 0 ? to : to.substring(0, colon);
                ObjectNode d = s.putObject("dnat").put("addr", addr.startsWith("[") ? addr.substring(1, addr.length() - 1) : addr);
                if (colon >= 0) {
                    d.put("port", Integer.parseInt(to.substring(colon + 1)));
                }
                return s;
            }
            case "update" -> {
                next();
                String set = next();
                expect("{");
                JsonNode elem = expression();
                expect("}");
                ObjectNode u = s.putObject("set");
                u.put("op", "update");
                u.set("elem", elem);
                u.put("set", set);
                return s;
            }
            default -> {
            }
        }
        if (w.equals("mark") && at + 1 < words.size() && words.get(at + 1).equals("set")) {
            next();
            next();
            ObjectNode m = s.putObject("mangle");
            m.set("key", meta("mark"));
            m.set("value", expression());
            return s;
        }
        JsonNode left = expression();
        if (peek().equals("vmap")) {
            next();
            ObjectNode v = s.putObject("vmap");
            v.set("key", left);
            if (!peek().equals("{")) {
                v.put("data", next());
                return s;
            }
            // Upstream kube-proxy's dispatch: an anonymous verdict map in the rule, { 0 : goto A , 1 : goto B }.
            next();
            ArrayNode entries = v.putObject("data").putArray("set");
            while (!peek().equals("}")) {
                if (peek().equals(",")) {
                    next();
                    continue;
                }
                JsonNode key = atom(next());
                expect(":");
                entries.addArray().add(key).add(statement());
            }
            next();
            return s;
        }
        String op = "==";
        if (peek().equals("!=") || peek().equals("==")) {
            op = next();
        } else if (left.has("ct")) {
            op = "in";
        }
        ObjectNode m = s.putObject("match");
        m.put("op", op);
        m.set("left", left);
        m.set("right", value());
        return s;
    }

    private JsonNode expression() {
        List<JsonNode> parts = new ArrayList<>();
        parts.add(term());
        while (peek().equals(".")) {
            next();
            parts.add(term());
        }
        if (parts.size() == 1) {
            return parts.get(0);
        }
        ObjectNode concat = F.objectNode();
        ArrayNode list = concat.putArray("concat");
        parts.forEach(list::add);
        return concat;
    }

    private JsonNode term() {
        String w = next();
        ObjectNode t = F.objectNode();
        switch (w) {
            case "ip", "ip6", "th" -> t.putObject("payload").put("protocol", w).put("field", next());
            case "meta" -> t.set("meta", F.objectNode().put("key", next()));
            case "ct" -> t.putObject("ct").put("key", next());
            case "fib" -> {
                String flag = next();
                expect("type");
                ObjectNode fib = t.putObject("fib");
                fib.put("result", "type");
                fib.putArray("flags").add(flag);
            }
            case "numgen" -> {
                // As nft 1.0.6 lists it: the mode, mod and offset (0 when none); ServiceDispatch writes random and inc.
                String mode = next();
                expect("mod");
                ObjectNode numgen = t.putObject("numgen").put("mode", mode).put("mod", Integer.parseInt(next()));
                numgen.put("offset", offset());
            }
            case "jhash" -> {
                ObjectNode jhash = t.putObject("jhash");
                JsonNode of = term();
                expect("mod");
                jhash.put("mod", Integer.parseInt(next()));
                expect("seed");
                jhash.put("seed", Long.decode(next()));
                long offset = offset();
                if (offset != 0) {
                    jhash.put("offset", offset);
                }
                jhash.set("expr", of);
            }
            case "mark" -> {
                JsonNode mark = meta("mark");
                String op = peek();
                String sign = op.equals("and") ? "&" : op.equals("or") ? "|" : op.equals("xor") ? "^" : null;
                if (sign == null) {
                    return mark;
                }
                next();
                t.putArray(sign).add(mark).add(atom(next()));
            }
            default -> throw new IllegalArgumentException("unknown expression " + w + " in: " + String.join(" ", words));
        }
        return t;
    }

    /** An optional {@code offset N}, 0 when there is none. */
    private long offset() {
        if (!peek().equals("offset")) {
            return 0;
        }
        next();
        return Long.parseLong(next());
    }

    private static ObjectNode meta(String key) {
        ObjectNode m = F.objectNode();
        m.putObject("meta").put("key", key);
        return m;
    }

    private JsonNode value() {
        if (!peek().equals("{")) {
            return atom(next());
        }
        next();
        List<JsonNode> members = new ArrayList<>();
        while (!peek().equals("}")) {
            String w = next();
            if (!w.equals(",")) {
                members.add(atom(w));
            }
        }
        next();
        if (members.size() == 1) {
            return members.get(0);
        }
        ObjectNode set = F.objectNode();
        ArrayNode list = set.putArray("set");
        members.forEach(list::add);
        return set;
    }

    private void expect(String word) {
        String w = next();
        if (!w.equals(word)) {
            throw new IllegalArgumentException("expected " + word + ", not " + w + " in: " + String.join(" ", words));
        }
    }
}
