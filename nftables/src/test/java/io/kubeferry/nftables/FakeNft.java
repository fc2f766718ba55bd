package io.kubeferry.nftables;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An in-memory nftables that interprets {@link NftTransaction}s the way nft and the kernel do, for unit tests:
 * tables, chains with their rules, sets and maps with their elements. It fails where nft fails (a missing table,
 * chain, set or map; {@code create} of something that exists; {@code add} of a map element whose key is there
 * with another value; a jump, goto or {@code @set} to nothing; deleting a chain or set something still refers
 * to) and applies a transaction atomically: one that fails leaves the fake exactly as it was. {@link #listTable}
 * prints the state in {@code nft list table} style and {@link #dump} in knftables' Fake.Dump style, both in a
 * deterministic order (by name; elements by key) so two ways of reaching the same state print the same.
 */
public final class FakeNft {

    /** What nft reports: the errno-like kind and the message. */
    public static final class Failure extends RuntimeException {

        private static final long serialVersionUID = 1L;
        private final String errno;

        Failure(String errno, String message) {
            super(errno + ": " + message);
            this.errno = errno;
        }

        public String errno() {
            return errno;
        }
    }

    private static final String ENOENT = "ENOENT";
    private static final String EEXIST = "EEXIST";
    private static final String EBUSY = "EBUSY";
    private static final String EINVAL = "EINVAL";
    private static final String EOPNOTSUPP = "EOPNOTSUPP";

    private Map<String, TableState> tables = new TreeMap<>();
    private long nextHandle = 1;
    private int transactions;

    /** Applies the transaction whole, or throws {@link Failure} and changes nothing. */
    public synchronized void apply(NftTransaction tx) {
        Map<String, TableState> work = new TreeMap<>();
        tables.forEach((k, v) -> work.put(k, v.copy()));
        long handle = nextHandle;
        String key = tx.family() + " " + tx.table();
        int index = 0;
        for (NftTransaction.Op op : tx.ops()) {
            index++;
            try {
                handle = applyOne(work, key, op, handle);
            } catch (Failure e) {
                throw new Failure(e.errno(), e.getMessage().substring(e.errno().length() + 2) + " (command " + index + ": "
                        + oneLine(tx, op) + ")");
            }
        }
        tables = work;
        nextHandle = handle;
        transactions++;
    }

    /** How many transactions applied successfully. */
    public synchronized int applied() {
        return transactions;
    }

    private static String oneLine(NftTransaction tx, NftTransaction.Op op) {
        NftTransaction single = new NftTransaction(tx.family(), tx.table());
        single.op(op.verb(), op.object());
        return single.render().strip();
    }

    private static long applyOne(Map<String, TableState> work, String key, NftTransaction.Op op, long handle) {
        NftTransaction.Verb verb = op.verb();
        NftObject object = op.object();
        TableState table = work.get(key);
        if (object instanceof NftObject.Table t) {
            switch (verb) {
                case ADD -> {
                    if (table == null) {
                        work.put(key, new TableState(t.comment()));
                    }
                }
                case CREATE -> {
                    if (table != null) {
                        throw new Failure(EEXIST, "table " + key + " exists");
                    }
                    work.put(key, new TableState(t.comment()));
                }
                case DELETE, DESTROY -> {
                    if (table == null && verb == NftTransaction.Verb.DELETE) {
                        throw new Failure(ENOENT, "no such table " + key);
                    }
                    work.remove(key);
                }
                case FLUSH -> {
                    needTable(table, key);
                    table.chains.values().forEach(c -> c.rules.clear());
                    table.containers.values().forEach(c -> c.elements.clear());
                }
                default -> throw new Failure(EINVAL, verb.word() + " table");
            }
            return handle;
        }
        needTable(table, key);
        if (object instanceof NftObject.Chain c) {
            chain(table, verb, c, handle);
            return verb == NftTransaction.Verb.ADD || verb == NftTransaction.Verb.CREATE ? handle + 1 : handle;
        }
        if (object instanceof NftObject.Rule r) {
            rule(table, verb, r, handle);
            return handle + 1;
        }
        if (object instanceof NftObject.Container s) {
            container(table, verb, s);
            return handle;
        }
        element(table, verb, (NftObject.Element) object);
        return handle;
    }

    private static void needTable(TableState table, String key) {
        if (table == null) {
            throw new Failure(ENOENT, "no such table " + key);
        }
    }

    private static void chain(TableState table, NftTransaction.Verb verb, NftObject.Chain c, long handle) {
        ChainState existing = c.name() == null ? byHandle(table, c.handle()) : table.chains.get(c.name());
        switch (verb) {
            case ADD, CREATE -> {
                if (existing != null) {
                    if (verb == NftTransaction.Verb.CREATE) {
                        throw new Failure(EEXIST, "chain " + c.name() + " exists");
                    }
                    if (c.base() != null && !Objects.equals(existing.def.base(), c.base())) {
                        // The kernel cannot change a chain's type, hook or priority in place (upstream deletes and
                        // re-adds its base chains once for this reason). An add without a spec changes nothing.
                        throw new Failure(EOPNOTSUPP, "chain " + c.name() + " exists as " + describe(existing.def.base())
                                + ", not " + describe(c.base()));
                    }
                    return;
                }
                table.chains.put(c.name(), new ChainState(c, handle));
            }
            case FLUSH -> {
                if (existing == null) {
                    throw new Failure(ENOENT, "no such chain " + c.name());
                }
                existing.rules.clear();
            }
            case DELETE, DESTROY -> {
                if (existing == null) {
                    if (verb == NftTransaction.Verb.DELETE) {
                        throw new Failure(ENOENT, "no such chain " + (c.name() != null ? c.name() : "with handle " + c.handle()));
                    }
                    return;
                }
                String user = referrer(table, existing.def.name());
                if (user != null) {
                    throw new Failure(EBUSY, "chain " + existing.def.name() + " is still used by " + user);
                }
                table.chains.remove(existing.def.name());
            }
            default -> throw new Failure(EINVAL, verb.word() + " chain");
        }
    }

    private static ChainState byHandle(TableState table, Long handle) {
        return table.chains.values().stream().filter(c -> c.handle == handle).findFirst().orElse(null);
    }

    private static String describe(NftObject.Base base) {
        return base == null ? "a regular chain" : "type " + base.type() + " hook " + base.hook() + " priority " + base.priority();
    }

    /** Who jumps or goes to {@code chain}, or null: a rule of another chain, or a map element. */
    private static String referrer(TableState table, String chain) {
        for (ChainState other : table.chains.values()) {
            if (other.def.name().equals(chain)) {
                continue;
            }
            for (RuleState rule : other.rules) {
                if (targets(rule.text).contains(chain)) {
                    return "a rule of chain " + other.def.name();
                }
            }
        }
        for (ContainerState map : table.containers.values()) {
            for (ElementState e : map.elements.values()) {
                if (targets(e.value).contains(chain)) {
                    return "element " + e.key + " of map " + map.def.name();
                }
            }
        }
        return null;
    }

    private static void rule(TableState table, NftTransaction.Verb verb, NftObject.Rule r, long handle) {
        ChainState chain = table.chains.get(r.chain());
        if (chain == null) {
            throw new Failure(ENOENT, "no such chain " + r.chain());
        }
        int at = -1;
        if (r.handle() != null) {
            for (int i = 0; i < chain.rules.size(); i++) {
                if (chain.rules.get(i).handle == r.handle()) {
                    at = i;
                }
            }
            if (at < 0 && verb != NftTransaction.Verb.DESTROY) {
                throw new Failure(ENOENT, "no rule with handle " + r.handle() + " in chain " + r.chain());
            }
        }
        if (verb == NftTransaction.Verb.DELETE || verb == NftTransaction.Verb.DESTROY) {
            if (at >= 0) {
                chain.rules.remove(at);
            }
            return;
        }
        checkReferences(table, r.rule());
        RuleState added = new RuleState(handle, r.rule(), r.comment());
        switch (verb) {
            case ADD -> chain.rules.add(at < 0 ? chain.rules.size() : at + 1, added);
            case INSERT -> chain.rules.add(at < 0 ? 0 : at, added);
            case REPLACE -> chain.rules.set(at, new RuleState(r.handle(), r.rule(), r.comment()));
            default -> throw new Failure(EINVAL, verb.word() + " rule");
        }
    }

    /** Every {@code @set} must exist, and every jump or goto must name an existing regular chain. */
    private static void checkReferences(TableState table, String text) {
        String[] words = text.trim().split("\\s+");
        for (int i = 0; i < words.length; i++) {
            String word = words[i];
            if (word.startsWith("@")) {
                String name = word.substring(1);
                if (!table.containers.containsKey(name)) {
                    boolean wantsMap = i > 0 && (words[i - 1].equals("vmap") || words[i - 1].equals("map"));
                    throw new Failure(ENOENT, "no such " + (wantsMap ? "map " : "set ") + name);
                }
                if ((i > 0 && words[i - 1].equals("vmap")) && !table.containers.get(name).def.map()) {
                    throw new Failure(EINVAL, name + " is a set, not a map");
                }
            } else if ((word.equals("jump") || word.equals("goto")) && i + 1 < words.length) {
                checkTarget(table, words[i + 1]);
            }
        }
    }

    private static void checkTarget(TableState table, String name) {
        ChainState target = table.chains.get(name);
        if (target == null) {
            throw new Failure(ENOENT, "no such chain " + name);
        }
        if (target.def.base() != null) {
            throw new Failure(EOPNOTSUPP, "cannot jump to base chain " + name);
        }
    }

    /** The chains a rule or verdict names after jump/goto. */
    private static List<String> targets(String text) {
        List<String> out = new ArrayList<>(2);
        String[] words = text.trim().split("\\s+");
        for (int i = 0; i + 1 < words.length; i++) {
            if (words[i].equals("jump") || words[i].equals("goto")) {
                out.add(words[i + 1]);
            }
        }
        return out;
    }

    private static void container(TableState table, NftTransaction.Verb verb, NftObject.Container s) {
        ContainerState existing = table.containers.get(s.name());
        switch (verb) {
            case ADD, CREATE -> {
                if (existing != null) {
                    if (verb == NftTransaction.Verb.CREATE) {
                        throw new Failure(EEXIST, s.kind() + " " + s.name() + " exists");
                    }
                    NftObject.Container had = existing.def;
                    if (had.map() != s.map() || !had.type().equals(s.type()) || !had.flags().equals(s.flags())) {
                        throw new Failure(EEXIST, had.kind() + " " + s.name() + " exists with another type or flags");
                    }
                    // A new default timeout is taken in place (seen on kernel 6.18 with nft 1.0.6).
                    ContainerState updated = new ContainerState(new NftObject.Container(had.map(), had.name(), had.type(), had.flags(),
                            s.timeoutSeconds(), had.comment()));
                    updated.elements.putAll(existing.elements);
                    table.containers.put(s.name(), updated);
                    return;
                }
                table.containers.put(s.name(), new ContainerState(s));
            }
            case FLUSH -> needContainer(existing, s).elements.clear();
            case DELETE, DESTROY -> {
                if (existing == null) {
                    if (verb == NftTransaction.Verb.DELETE) {
                        throw new Failure(ENOENT, "no such " + s.kind() + " " + s.name());
                    }
                    return;
                }
                for (ChainState chain : table.chains.values()) {
                    for (RuleState rule : chain.rules) {
                        if ((" " + rule.text + " ").contains(" @" + s.name() + " ")) {
                            throw new Failure(EBUSY, existing.def.kind() + " " + s.name() + " is still used by a rule of chain "
                                    + chain.def.name());
                        }
                    }
                }
                table.containers.remove(s.name());
            }
            default -> throw new Failure(EINVAL, verb.word() + " " + s.kind());
        }
    }

    private static ContainerState needContainer(ContainerState existing, NftObject.Container s) {
        if (existing == null || existing.def.map() != s.map()) {
            throw new Failure(ENOENT, "no such " + s.kind() + " " + s.name());
        }
        return existing;
    }

    private static void element(TableState table, NftTransaction.Verb verb, NftObject.Element e) {
        // nft's element commands do not say set or map: the name does (both share one namespace).
        ContainerState container = table.containers.get(e.container());
        if (container == null) {
            throw new Failure(ENOENT, "no such set or map " + e.container());
        }
        boolean adding = verb == NftTransaction.Verb.ADD || verb == NftTransaction.Verb.CREATE;
        if (adding && container.def.map() == e.value().isEmpty()) {
            throw new Failure(EINVAL, container.def.map()
                    ? "map " + e.container() + " needs a value for " + e.keyText()
                    : "set " + e.container() + " takes no value for " + e.keyText());
        }
        String[] type = container.def.type().split(" : ", 2);
        int keyParts = type[0].split(" \\. ").length;
        if (e.key().size() != keyParts) {
            throw new Failure(EINVAL, "key " + e.keyText() + " does not match " + container.def.kind() + " " + e.container()
                    + " of type " + container.def.type());
        }
        String key = e.keyText();
        ElementState existing = container.elements.get(key);
        switch (verb) {
            case ADD, CREATE -> {
                String value = e.valueText();
                if (e.inMap() && type[1].trim().equals("verdict")) {
                    checkVerdict(table, value);
                }
                if (existing != null) {
                    if (verb == NftTransaction.Verb.CREATE) {
                        throw new Failure(EEXIST, "element " + key + " exists in " + e.container());
                    }
                    if (!existing.value.equals(value)) {
                        throw new Failure(EEXIST, "element " + key + " of map " + e.container() + " exists with value "
                                + existing.value + ", not " + value);
                    }
                    return;
                }
                container.elements.put(key, new ElementState(key, value, e.comment()));
            }
            case DELETE, DESTROY -> {
                if (existing == null && verb == NftTransaction.Verb.DELETE) {
                    throw new Failure(ENOENT, "no element " + key + " in " + e.container());
                }
                container.elements.remove(key);
            }
            default -> throw new Failure(EINVAL, verb.word() + " element");
        }
    }

    private static void checkVerdict(TableState table, String value) {
        String[] words = value.trim().split("\\s+");
        if (words.length == 2 && (words[0].equals("goto") || words[0].equals("jump"))) {
            checkTarget(table, words[1]);
        } else if (!(words.length == 1 && List.of("accept", "drop", "continue", "return").contains(words[0]))) {
            throw new Failure(EINVAL, "not a verdict: " + value);
        }
    }

    // ---- reading the state (for tests and the packet tracer) ----

    public synchronized boolean hasTable(String family, String table) {
        return tables.containsKey(family + " " + table);
    }

    /** The chains of a table, by name. */
    public synchronized java.util.SortedSet<String> chains(String family, String table) {
        return new TreeSet<>(need(family, table).chains.keySet());
    }

    /** A chain's definition, or null. */
    public synchronized NftObject.Chain chain(String family, String table, String chain) {
        ChainState c = need(family, table).chains.get(chain);
        return c == null ? null : c.def;
    }

    /** A chain's rules, in order, as their text (with {@code comment "..."} when they have one). */
    public synchronized List<String> rules(String family, String table, String chain) {
        ChainState c = need(family, table).chains.get(chain);
        if (c == null) {
            throw new Failure(ENOENT, "no such chain " + chain);
        }
        return c.rules.stream().map(RuleState::listed).toList();
    }

    /** The sets and maps of a table, by name. */
    public synchronized java.util.SortedSet<String> containers(String family, String table) {
        return new TreeSet<>(need(family, table).containers.keySet());
    }

    /** A set's or map's definition, or null. */
    public synchronized NftObject.Container container(String family, String table, String name) {
        ContainerState c = need(family, table).containers.get(name);
        return c == null ? null : c.def;
    }

    /** A set's or map's elements: key text to value text ("" for a set), sorted by key. */
    public synchronized java.util.SortedMap<String, String> elements(String family, String table, String name) {
        ContainerState c = need(family, table).containers.get(name);
        if (c == null) {
            throw new Failure(ENOENT, "no such set or map " + name);
        }
        TreeMap<String, String> out = new TreeMap<>();
        c.elements.forEach((k, v) -> out.put(k, v.value));
        return out;
    }

    private TableState need(String family, String table) {
        TableState t = tables.get(family + " " + table);
        if (t == null) {
            throw new Failure(ENOENT, "no such table " + family + " " + table);
        }
        return t;
    }

    /** The table in {@code nft list table} style: sets and maps, then chains, each sorted by name. */
    public synchronized String listTable(String family, String table) {
        TableState t = need(family, table);
        StringBuilder out = new StringBuilder();
        out.append("table ").append(family).append(' ').append(table).append(" {\n");
        if (t.comment != null) {
            out.append("\tcomment \"").append(t.comment).append("\"\n");
        }
        for (ContainerState c : sorted(t.containers).values()) {
            out.append("\t").append(c.def.kind()).append(' ').append(c.def.name()).append(" {\n");
            out.append("\t\ttype ").append(c.def.type()).append('\n');
            if (!c.def.flags().isEmpty()) {
                out.append("\t\tflags ").append(String.join(",", c.def.flags())).append('\n');
            }
            if (c.def.timeoutSeconds() > 0) {
                out.append("\t\ttimeout ").append(nftDuration(c.def.timeoutSeconds())).append('\n');
            }
            if (c.def.comment() != null) {
                out.append("\t\tcomment \"").append(c.def.comment()).append("\"\n");
            }
            if (!c.elements.isEmpty()) {
                out.append("\t\telements = { ");
                boolean first = true;
                for (ElementState e : c.elements.values()) {
                    out.append(first ? "" : ",\n\t\t\t     ").append(e.key);
                    if (e.comment != null) {
                        out.append(" comment \"").append(e.comment).append('"');
                    }
                    if (!e.value.isEmpty()) {
                        out.append(" : ").append(e.value);
                    }
                    first = false;
                }
                out.append(" }\n");
            }
            out.append("\t}\n");
        }
        for (ChainState c : sorted(t.chains).values()) {
            out.append("\tchain ").append(c.def.name()).append(" {\n");
            if (c.def.comment() != null) {
                out.append("\t\tcomment \"").append(c.def.comment()).append("\"\n");
            }
            if (c.def.base() != null) {
                NftObject.Base b = c.def.base();
                out.append("\t\ttype ").append(b.type()).append(" hook ").append(b.hook()).append(" priority ")
                        .append(priorityName(b.priority())).append("; policy accept;\n");
            }
            for (RuleState r : c.rules) {
                out.append("\t\t").append(r.listed()).append('\n');
            }
            out.append("\t}\n");
        }
        return out.append("}\n").toString();
    }

    /**
     * The table as {@code nft -j list table} prints it (nft 1.0.6): metainfo, the table, its sets and maps with their
     * elements, its chains, then every rule with its chain, each with a handle. Rules are compiled from their text
     * by {@link NftRuleJson}; a dynamic set's elements are left out, as the kernel's are of no sync's concern.
     */
    public synchronized String listJson(String family, String table) {
        TableState t = need(family, table);
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        ArrayNode items = root.putArray("nftables");
        items.addObject().putObject("metainfo").put("version", "1.0.6").put("release_name", "Lester Gooch #5").put("json_schema_version",
                1);
        items.addObject().putObject("table").put("family", family).put("name", table).put("handle", 1);
        long handle = 2;
        for (ContainerState c : t.containers.values()) {
            ObjectNode o = items.addObject().putObject(c.def.kind());
            o.put("family", family).put("name", c.def.name()).put("table", table);
            // As nft 1.0.6 lists it: a typeof key by its expressions' types (the slot map's integer . integer).
            String[] type = NftKernelTable.listedType(c.def.type()).split(" : ", 2);
            String[] key = type[0].split(" \\. ");
            if (key.length == 1) {
                o.put("type", key[0]);
            } else {
                ArrayNode parts = o.putArray("type");
                for (String k : key) {
                    parts.add(k);
                }
            }
            o.put("handle", handle++);
            if (c.def.comment() != null) {
                o.put("comment", c.def.comment());
            }
            if (c.def.map()) {
                o.put("map", type[1]);
            }
            List<String> flags = c.def.flags().stream().filter(x -> !x.equals("dynamic")).toList();
            if (!flags.isEmpty()) {
                flags.forEach(o.putArray("flags")::add);
            }
            if (c.def.timeoutSeconds() > 0) {
                o.put("timeout", c.def.timeoutSeconds());
            }
            if (c.elements.isEmpty() || c.def.flags().contains("dynamic")) {
                continue;
            }
            ArrayNode elems = o.putArray("elem");
            for (ElementState e : c.elements.values()) {
                String[] parts = e.key.split(" \\. ");
                JsonNode k;
                if (parts.length == 1) {
                    k = NftRuleJson.atom(parts[0]);
                } else {
                    ObjectNode concat = f.objectNode();
                    for (String part : parts) {
                        concat.withArray("concat").add(NftRuleJson.atom(part));
                    }
                    k = concat;
                }
                if (e.comment != null) {
                    ObjectNode wrapped = f.objectNode();
                    wrapped.putObject("elem").put("comment", e.comment).set("val", k);
                    k = wrapped;
                }
                if (c.def.map()) {
                    elems.addArray().add(k).add(NftRuleJson.verdict(e.value));
                } else {
                    elems.add(k);
                }
            }
        }
        for (ChainState c : t.chains.values()) {
            ObjectNode o = items.addObject().putObject("chain");
            o.put("family", family).put("table", table).put("name", c.def.name()).put("handle", c.handle);
            if (c.def.base() != null) {
                o.put("type", c.def.base().type()).put("hook", c.def.base().hook()).put("prio", c.def.base().priority()).put("policy",
                        "accept");
            }
        }
        for (ChainState c : t.chains.values()) {
            for (RuleState r : c.rules) {
                ObjectNode o = items.addObject().putObject("rule");
                o.put("family", family).put("table", table).put("chain", c.def.name()).put("handle", r.handle);
                if (r.comment != null) {
                    o.put("comment", r.comment);
                }
                o.set("expr", NftRuleJson.compile(r.text, family));
            }
        }
        return root.toString();
    }

    /**
     * The table as knftables' Fake.Dump writes it: {@code add} commands, objects first (chains, sets, maps by
     * name), then rules chain by chain, then elements by key; the shape of upstream's expected test dumps.
     */
    public synchronized String dump(String family, String table) {
        TableState t = need(family, table);
        NftTransaction tx = new NftTransaction(family, table);
        tx.add(new NftObject.Table(t.comment));
        sorted(t.chains).values().forEach(c -> tx.add(c.def));
        sorted(t.containers).values().stream().filter(c -> !c.def.map()).forEach(c -> tx.add(c.def));
        sorted(t.containers).values().stream().filter(c -> c.def.map()).forEach(c -> tx.add(c.def));
        for (ChainState c : sorted(t.chains).values()) {
            c.rules.forEach(r -> tx.add(NftObject.Rule.of(c.def.name(), r.text, r.comment)));
        }
        for (boolean maps : new boolean[] {false, true}) {
            for (ContainerState c : sorted(t.containers).values()) {
                if (c.def.map() != maps) {
                    continue;
                }
                for (ElementState e : c.elements.values()) {
                    tx.add(new NftObject.Element(maps, c.def.name(), List.of(e.key.split(" \\. ")),
                            e.value.isEmpty() ? List.of() : List.of(e.value), e.comment));
                }
            }
        }
        return tx.render();
    }

    private static <V> TreeMap<String, V> sorted(Map<String, V> map) {
        return new TreeMap<>(map);
    }

    /** nft's spelling of a standard priority (ip family): {@code dstnat - 10}, {@code filter}, else the number. */
    static String priorityName(int priority) {
        Map<String, Integer> names = new LinkedHashMap<>();
        names.put("raw", -300);
        names.put("mangle", -150);
        names.put("dstnat", -100);
        names.put("filter", 0);
        names.put("security", 50);
        names.put("srcnat", 100);
        for (Map.Entry<String, Integer> e : names.entrySet()) {
            int offset = priority - e.getValue();
            if (offset == 0) {
                return e.getKey();
            }
            if (Math.abs(offset) <= 10) {
                return e.getKey() + (offset < 0 ? " - " : " + ") + Math.abs(offset);
            }
        }
        return Integer.toString(priority);
    }

    /** nft's way of printing a duration: {@code 3h}, {@code 1m30s}. */
    static String nftDuration(long seconds) {
        StringBuilder out = new StringBuilder();
        long[] units = {86400, 3600, 60, 1};
        String[] names = {"d", "h", "m", "s"};
        for (int i = 0; i < units.length; i++) {
            if (seconds >= units[i]) {
                out.append(seconds / units[i]).append(names[i]);
                seconds %= units[i];
            }
        }
        return out.isEmpty() ? "0s" : out.toString();
    }

    // ---- state (mutable, copied per transaction) ----

    private static final class TableState {

        final String comment;
        final LinkedHashMap<String, ChainState> chains = new LinkedHashMap<>();
        final LinkedHashMap<String, ContainerState> containers = new LinkedHashMap<>();

        TableState(String comment) {
            this.comment = comment;
        }

        TableState copy() {
            TableState c = new TableState(comment);
            chains.forEach((k, v) -> c.chains.put(k, v.copy()));
            containers.forEach((k, v) -> c.containers.put(k, v.copy()));
            return c;
        }
    }

    private static final class ChainState {

        final NftObject.Chain def;
        final long handle;
        final List<RuleState> rules = new ArrayList<>();

        ChainState(NftObject.Chain def, long handle) {
            this.def = def;
            this.handle = handle;
        }

        ChainState copy() {
            ChainState c = new ChainState(def, handle);
            c.rules.addAll(rules);
            return c;
        }
    }

    private record RuleState(long handle, String text, String comment) {

        String listed() {
            return comment == null ? text : text + " comment \"" + comment + "\"";
        }
    }

    private static final class ContainerState {

        final NftObject.Container def;
        final TreeMap<String, ElementState> elements = new TreeMap<>();

        ContainerState(NftObject.Container def) {
            this.def = def;
        }

        ContainerState copy() {
            ContainerState c = new ContainerState(def);
            c.elements.putAll(elements);
            return c;
        }
    }

    private record ElementState(String key, String value, String comment) {
    }
}
