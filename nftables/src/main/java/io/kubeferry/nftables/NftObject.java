package io.kubeferry.nftables;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One object of an nftables table, as a transaction names it: the table itself, a chain, a rule, a set, a map or
 * an element of a set or map. Values only: the family and table come from the {@link NftTransaction} they go in,
 * as knftables binds them to its interface, so a transaction can never touch anyone else's table.
 */
public sealed interface NftObject {

    /** nft's identifier syntax (its scanner: a letter, '_' or '.' first, then letters, digits and {@code /-_.}). */
    Pattern NAME = Pattern.compile("[A-Za-z_.][A-Za-z0-9/_.\\-]*");
    /** The kernel's limit for table, chain, set and map names (NFT_NAME_MAXLEN, counted with its NUL). */
    int NAME_MAX = 255;
    /** nft refuses longer comments ("comment too long, 128 characters maximum allowed"). */
    int COMMENT_MAX = 128;

    /** The object's kind as nft spells it in a command: {@code table}, {@code chain}, ... */
    String kind();

    /** The table; its comment is optional. */
    record Table(String comment) implements NftObject {

        public Table {
            checkComment(comment);
        }

        @Override
        public String kind() {
            return "table";
        }
    }

    /**
     * A chain: regular when {@code base} is null, else hooked into netfilter.
     *
     * @param handle for delete by handle only (null otherwise)
     */
    record Chain(String name, Base base, String comment, Long handle) implements NftObject {

        public Chain {
            if (name != null) {
                checkName("chain", name);
            }
            checkComment(comment);
        }

        public static Chain regular(String name) {
            return new Chain(name, null, null, null);
        }

        public static Chain regular(String name, String comment) {
            return new Chain(name, null, comment, null);
        }

        public static Chain base(String name, String type, String hook, int priority) {
            return new Chain(name, new Base(type, hook, priority), null, null);
        }

        @Override
        public String kind() {
            return "chain";
        }
    }

    /**
     * A base chain's hook. The priority is a number: nft before 1.0.? does not accept every named priority in
     * every hook (e.g. {@code dstnat} in {@code output}), which is why knftables writes numbers too.
     */
    record Base(String type, String hook, int priority) {

        public Base {
            Objects.requireNonNull(type, "base chain type");
            Objects.requireNonNull(hook, "base chain hook");
        }

        public static final int FILTER = 0;
        public static final int DSTNAT = -100;
        public static final int SRCNAT = 100;
    }

    /**
     * A rule: its text is nft's own syntax, written as is.
     *
     * @param handle the kernel's handle, needed by replace and delete (and an insert before it), else null
     */
    record Rule(String chain, String rule, String comment, Long handle) implements NftObject {

        public Rule {
            checkComment(comment);
        }

        public static Rule of(String chain, String rule) {
            return new Rule(chain, rule, null, null);
        }

        public static Rule of(String chain, String rule, String comment) {
            return new Rule(chain, rule, comment, null);
        }

        @Override
        public String kind() {
            return "rule";
        }
    }

    /**
     * A named set ({@code map} false) or map ({@code map} true; its type has {@code key : value}).
     *
     * @param type           e.g. {@code ipv4_addr} or {@code ipv4_addr . inet_proto . inet_service : verdict}
     * @param flags          e.g. {@code dynamic}, {@code timeout}, {@code interval}
     * @param timeoutSeconds default element timeout, 0 = none
     */
    record Container(boolean map, String name, String type, List<String> flags, long timeoutSeconds, String comment)
            implements
                NftObject {

        public Container {
            if (name != null) {
                checkName(map ? "map" : "set", name);
            }
            flags = flags == null ? List.of() : List.copyOf(flags);
            checkComment(comment);
        }

        public static Container set(String name, String type, String comment) {
            return new Container(false, name, type, List.of(), 0, comment);
        }

        public static Container map(String name, String type, String comment) {
            return new Container(true, name, type, List.of(), 0, comment);
        }

        @Override
        public String kind() {
            return map ? "map" : "set";
        }
    }

    /**
     * An element of the set or map {@code container}.
     *
     * @param key   the key's parts ({@code 172.30.0.41}, {@code tcp}, {@code 80}), written joined by {@code " . "}
     * @param value a map element's value parts ({@code goto service-...}); empty for a set element
     */
    record Element(boolean inMap, String container, List<String> key, List<String> value, String comment)
            implements
                NftObject {

        public Element {
            key = key == null ? List.of() : List.copyOf(key);
            value = value == null ? List.of() : List.copyOf(value);
            checkComment(comment);
        }

        public static Element ofSet(String set, String... key) {
            return new Element(false, set, List.of(key), List.of(), null);
        }

        public static Element ofMap(String map, List<String> key, String value, String comment) {
            return new Element(true, map, key, List.of(value), comment);
        }

        public String keyText() {
            return String.join(" . ", key);
        }

        public String valueText() {
            return String.join(" . ", value);
        }

        @Override
        public String kind() {
            return "element";
        }
    }

    private static void checkName(String kind, String name) {
        if (name.isEmpty() || name.length() > NAME_MAX || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid " + kind + " name \"" + name + "\": nft names are 1.." + NAME_MAX
                    + " of [A-Za-z0-9/_.-], not starting with a digit, '/' or '-'");
        }
    }

    /** nft's quoted strings have no escapes: a quote or a control character would end the command early. */
    private static void checkComment(String comment) {
        if (comment == null) {
            return;
        }
        if (comment.length() > COMMENT_MAX) {
            throw new IllegalArgumentException("comment longer than " + COMMENT_MAX + " characters: \"" + comment + "\"");
        }
        for (int i = 0; i < comment.length(); i++) {
            char ch = comment.charAt(i);
            if (ch == '"' || ch < ' ' || ch == 127) {
                throw new IllegalArgumentException("comment with a quote or control character: " + comment.replace("\n", "\\n"));
            }
        }
    }
}
