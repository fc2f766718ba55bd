package io.kubeferry.nftables;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A rule as {@code nft -j list table} lists it (its {@code expr} statements), printed back in the syntax
 * {@link NftablesRenderer} writes, so a listed rule and a rendered one compare as text after {@link #normalise}. Only
 * the expressions the renderer writes are known: anything else prints as null (the rule is not understood), and
 * the caller takes the table as not kube-ferry's rather than guess. Comparing the rules themselves, not a hash the
 * renderer would have to store in the table, keeps the table exactly upstream's layout (no marker a differential
 * diff against upstream would show) and catches a chain someone edited by hand.
 */
final class NftRuleText {

    private NftRuleText() {
    }

    /** The rule's statements as text, or null when one of them is not an expression kube-ferry writes. */
    static String print(JsonNode expr, String comment) {
        if (expr == null || !expr.isArray()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (JsonNode statement : expr) {
            String text = statement(statement);
            if (text == null) {
                return null;
            }
            out.add(text);
        }
        String rule = String.join(" ", out);
        return normalise(comment == null ? rule : rule + " comment \"" + comment + "\"");
    }

    /**
     * One canonical spelling of a rule: single spaces; no {@code ==} (nft's implicit operator, which the renderer
     * writes in one place); an IPv4 /32 or IPv6 /128 as the address; an anonymous set's members sorted (the kernel lists them in its own order), and a set
     * of one member as the member alone (the kernel lists {@code { 10.0.0.0/8 }} as {@code 10.0.0.0/8}).
     */
    static String normalise(String rule) {
        if (plain(rule)) {
            // Almost every rule (60,000 chains' worth at 10,000 Services): nothing to rewrite, no regex to run.
            return rule;
        }
        StringBuilder out = new StringBuilder(rule.length());
        int i = 0;
        while (i < rule.length()) {
            char ch = rule.charAt(i);
            if (ch == '"') {
                int end = rule.indexOf('"', i + 1);
                end = end < 0 ? rule.length() - 1 : end;
                out.append(rule, i, end + 1);
                i = end + 1;
            } else if (ch == '{') {
                int end = rule.indexOf('}', i);
                if (end < 0) {
                    out.append(rule.substring(i));
                    break;
                }
                List<String> members = new ArrayList<>();
                for (String m : rule.substring(i + 1, end).split(",")) {
                    if (!m.isBlank()) {
                        members.add(host(String.join(" ", m.strip().split("\\s+"))));
                    }
                }
                members.sort(null);
                out.append(members.size() == 1 ? members.get(0) : "{ " + String.join(" , ", members) + " }");
                i = end + 1;
            } else {
                out.append(ch);
                i++;
            }
        }
        List<String> words = new ArrayList<>();
        for (String w : out.toString().strip().split("\\s+")) {
            if (!w.equals("==")) {
                words.add(host(w));
            }
        }
        return String.join(" ", words);
    }

    /** Already canonical: single spaces, no braces, no {@code ==}, no {@code /32} or {@code /128}. */
    private static boolean plain(String rule) {
        if (rule.isEmpty() || rule.charAt(0) == ' ' || rule.charAt(rule.length() - 1) == ' ' || rule.indexOf('{') >= 0
                || rule.contains("==") || rule.contains("/32") || rule.contains("/128") || rule.contains("  ")
                || rule.indexOf('\t') >= 0) {
            return false;
        }
        return true;
    }

    /**
     * The kernel lists an IPv4 /32 as the bare address ({@code loadBalancerSourceRanges: [1.2.3.4/32]}), and an IPv6
     * /128 likewise ({@code 2001:db8::1/128} as {@code 2001:db8::1}).
     */
    private static String host(String word) {
        if (word.endsWith("/32") && word.indexOf(':') < 0) {
            return word.substring(0, word.length() - 3);
        }
        return word.endsWith("/128") && word.indexOf(':') >= 0 ? word.substring(0, word.length() - 4) : word;
    }

    private static String statement(JsonNode s) {
        if (!s.isObject() || s.size() != 1) {
            return null;
        }
        Map.Entry<String, JsonNode> only = s.properties().iterator().next();
        JsonNode v = only.getValue();
        return switch (only.getKey()) {
            case "match" -> match(v);
            case "jump", "goto" -> v.path("target").isTextual() ? only.getKey() + " " + v.path("target").asText() : null;
            case "drop", "accept", "return", "continue" -> v.isNull() ? only.getKey() : null;
            // What a bare "reject" is in family ip (icmp) and ip6 (icmpv6).
            case "reject" -> v.isNull() || (("icmp".equals(v.path("type").asText()) || "icmpv6".equals(v.path("type").asText()))
                    && "port-unreachable".equals(v.path("expr").asText()))
                            ? "reject"
                            : null;
            case "vmap" -> v.path("data").isTextual() && v.path("data").asText().startsWith("@") && expression(v.path("key")) != null
                    ? expression(v.path("key")) + " vmap " + v.path("data").asText()
                    : null;
            case "mangle" -> mangle(v);
            case "masquerade" -> masquerade(v);
            case "dnat" -> dnat(v);
            case "set" -> "update".equals(v.path("op").asText()) && v.path("set").isTextual() && expression(v.path("elem")) != null
                    ? "update " + v.path("set").asText() + " { " + expression(v.path("elem")) + " }"
                    : null;
            default -> null;
        };
    }

    private static String match(JsonNode m) {
        String left = expression(m.path("left"));
        String right = value(m.path("right"));
        String op = m.path("op").asText();
        if (left == null || right == null) {
            return null;
        }
        return switch (op) {
            case "==", "in" -> left + " " + right;
            case "!=", "<", ">", "<=", ">=" -> left + " " + op + " " + right;
            default -> null;
        };
    }

    private static String mangle(JsonNode m) {
        String key = expression(m.path("key"));
        String value = expression(m.path("value"));
        return key == null || value == null ? null : key + " set " + value;
    }

    private static String masquerade(JsonNode m) {
        if (m.isNull()) {
            return "masquerade";
        }
        JsonNode flags = m.path("flags");
        if (m.size() != 1 || flags.isMissingNode()) {
            return null;
        }
        List<String> names = new ArrayList<>();
        if (flags.isArray()) {
            flags.forEach(f -> names.add(f.asText()));
        } else {
            names.add(flags.asText());
        }
        return "masquerade " + String.join(",", names);
    }

    private static String dnat(JsonNode d) {
        Iterator<String> keys = d.fieldNames();
        while (keys.hasNext()) {
            String k = keys.next();
            if (!k.equals("addr") && !k.equals("port") && !k.equals("family")) {
                return null;
            }
        }
        if (!d.path("addr").isTextual()) {
            return null;
        }
        // An IPv6 address with a port in brackets, as the renderer writes it ("[2001:db8::5]:8080", Go's JoinHostPort).
        String addr = d.path("addr").asText();
        if (!d.has("port")) {
            return "dnat to " + addr;
        }
        return "dnat to " + (addr.indexOf(':') >= 0 ? "[" + addr + "]" : addr) + ":" + d.path("port").asText();
    }

    /** A left-hand expression: a packet field, a meta key, ct, fib, numgen, a concatenation or a bitwise op. */
    static String expression(JsonNode e) {
        if (e.isTextual() || e.isNumber()) {
            return e.asText();
        }
        if (!e.isObject() || e.size() != 1) {
            return null;
        }
        Map.Entry<String, JsonNode> only = e.properties().iterator().next();
        JsonNode v = only.getValue();
        return switch (only.getKey()) {
            case "payload" -> v.path("protocol").isTextual() && v.path("field").isTextual()
                    ? v.path("protocol").asText() + " " + v.path("field").asText()
                    : null;
            // The renderer writes "mark" bare, every other meta key with "meta".
            case "meta" -> "mark".equals(v.path("key").asText()) ? "mark" : "meta " + v.path("key").asText();
            case "ct" -> v.path("key").isTextual() && !v.has("dir") ? "ct " + v.path("key").asText() : null;
            case "fib" -> fib(v);
            // ServiceDispatch: numgen random (the cascade; mod 1 with an offset, the hash dispatch's constant), numgen inc (rr).
            case "numgen" -> ("random".equals(v.path("mode").asText()) || "inc".equals(v.path("mode").asText()))
                    ? "numgen " + v.path("mode").asText() + " mod " + v.path("mod").asText() + offset(v)
                    : null;
            case "jhash" -> jhash(v);
            case "concat" -> joined(v, " . ");
            case "&" -> bitwise(v, "and");
            case "|" -> bitwise(v, "or");
            case "^" -> bitwise(v, "xor");
            default -> null;
        };
    }

    private static String offset(JsonNode v) {
        return v.path("offset").asLong(0) == 0 ? "" : " offset " + v.path("offset").asLong();
    }

    /** {@code jhash ip saddr mod M seed 0xS [offset O]}, the seed in hex as nft lists it and ServiceDispatch writes it. */
    private static String jhash(JsonNode v) {
        String of = expression(v.path("expr"));
        if (of == null || !v.path("seed").canConvertToLong()) {
            return null;
        }
        return "jhash " + of + " mod " + v.path("mod").asText() + " seed 0x" + Long.toHexString(v.path("seed").asLong()) + offset(v);
    }

    private static String fib(JsonNode f) {
        if (!"type".equals(f.path("result").asText()) || !f.path("flags").isArray() || f.path("flags").size() != 1) {
            return null;
        }
        return "fib " + f.path("flags").get(0).asText() + " type";
    }

    private static String bitwise(JsonNode operands, String word) {
        if (!operands.isArray() || operands.size() != 2 || !operands.get(1).isNumber()) {
            return null;
        }
        String left = expression(operands.get(0));
        return left == null ? null : left + " " + word + " " + String.format("0x%x", operands.get(1).asLong());
    }

    private static String joined(JsonNode parts, String separator) {
        if (!parts.isArray()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (JsonNode p : parts) {
            String text = expression(p);
            if (text == null) {
                return null;
            }
            out.add(text);
        }
        return String.join(separator, out);
    }

    /** A right-hand value: an address, a name, a number, {@code @set}, a prefix, a list of flags or an anonymous set. */
    static String value(JsonNode v) {
        if (v.isTextual() || v.isNumber()) {
            return v.asText();
        }
        if (v.isArray()) {
            // ct state new,established
            List<String> out = new ArrayList<>();
            v.forEach(x -> out.add(x.asText()));
            return String.join(",", out);
        }
        if (v.isObject() && v.has("prefix") && v.size() == 1) {
            JsonNode p = v.path("prefix");
            return p.path("addr").asText() + "/" + p.path("len").asText();
        }
        if (v.isObject() && v.has("set") && v.size() == 1 && v.path("set").isArray()) {
            List<String> members = new ArrayList<>();
            for (JsonNode m : v.path("set")) {
                String text = value(m);
                if (text == null || m.isArray()) {
                    return null;
                }
                members.add(text);
            }
            return "{ " + String.join(" , ", members) + " }";
        }
        return null;
    }
}
