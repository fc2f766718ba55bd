package io.kubeferry.nftables;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One nftables transaction on one table, the knftables way: typed operations on {@link NftObject}s, each checked
 * when it is added (a bad one throws at once, naming it, instead of failing the whole {@code nft -f -} later),
 * rendered to the text {@code nft -f -} reads. nft applies the text atomically: all of it or nothing.
 */
public final class NftTransaction {

    /** The operations, spelled as nft spells them. */
    public enum Verb {

        ADD, CREATE, INSERT, REPLACE, DELETE, DESTROY, FLUSH;

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One operation. */
    public record Op(Verb verb, NftObject object) {

        public Op {
            Objects.requireNonNull(verb, "verb");
            Objects.requireNonNull(object, "object");
        }
    }

    private final String family;
    private final String table;
    private final List<Op> ops = new ArrayList<>();

    public NftTransaction(String family, String table) {
        if (!List.of("ip", "ip6", "inet", "arp", "bridge", "netdev").contains(family)) {
            throw new IllegalArgumentException("unknown nftables family \"" + family + "\"");
        }
        if (!NftObject.NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("invalid table name \"" + table + "\"");
        }
        this.family = family;
        this.table = table;
    }

    public String family() {
        return family;
    }

    public String table() {
        return table;
    }

    public List<Op> ops() {
        return Collections.unmodifiableList(ops);
    }

    public boolean isEmpty() {
        return ops.isEmpty();
    }

    public int size() {
        return ops.size();
    }

    public NftTransaction add(NftObject object) {
        return op(Verb.ADD, object);
    }

    public NftTransaction create(NftObject object) {
        return op(Verb.CREATE, object);
    }

    public NftTransaction insert(NftObject object) {
        return op(Verb.INSERT, object);
    }

    public NftTransaction replace(NftObject object) {
        return op(Verb.REPLACE, object);
    }

    public NftTransaction delete(NftObject object) {
        return op(Verb.DELETE, object);
    }

    public NftTransaction destroy(NftObject object) {
        return op(Verb.DESTROY, object);
    }

    public NftTransaction flush(NftObject object) {
        return op(Verb.FLUSH, object);
    }

    /** Appends an operation after checking that nft could accept it. */
    public NftTransaction op(Verb verb, NftObject object) {
        validate(verb, object);
        ops.add(new Op(verb, object));
        return this;
    }

    private static void validate(Verb verb, NftObject object) {
        if (object instanceof NftObject.Table t) {
            require(verb != Verb.INSERT && verb != Verb.REPLACE, verb, t);
        } else if (object instanceof NftObject.Chain c) {
            require(verb != Verb.INSERT && verb != Verb.REPLACE, verb, c);
            boolean byHandle = (verb == Verb.DELETE || verb == Verb.DESTROY) && c.handle() != null;
            if (!byHandle && c.name() == null) {
                throw new IllegalArgumentException(verb.word() + " chain: no name" + (verb == Verb.DELETE ? " or handle" : ""));
            }
            if (c.handle() != null && !byHandle) {
                throw new IllegalArgumentException(verb.word() + " chain " + c.name() + ": a handle is only for delete/destroy");
            }
        } else if (object instanceof NftObject.Rule r) {
            require(verb != Verb.CREATE && verb != Verb.FLUSH, verb, r);
            if (r.chain() == null || r.chain().isEmpty()) {
                throw new IllegalArgumentException(verb.word() + " rule: no chain");
            }
            boolean needsText = verb == Verb.ADD || verb == Verb.INSERT || verb == Verb.REPLACE;
            if (needsText && (r.rule() == null || r.rule().isBlank())) {
                throw new IllegalArgumentException(verb.word() + " rule in " + r.chain() + ": no rule text");
            }
            if (needsText && (r.rule().indexOf('\n') >= 0 || r.rule().indexOf(';') >= 0)) {
                // Either would end the command early and let the rest run as another one.
                throw new IllegalArgumentException(verb.word() + " rule in " + r.chain() + ": a newline or ';' in \"" + r.rule() + "\"");
            }
            if ((verb == Verb.REPLACE || verb == Verb.DELETE || verb == Verb.DESTROY) && r.handle() == null) {
                throw new IllegalArgumentException(verb.word() + " rule in " + r.chain() + ": needs the rule's handle");
            }
        } else if (object instanceof NftObject.Container s) {
            require(verb != Verb.INSERT && verb != Verb.REPLACE, verb, s);
            if (s.name() == null) {
                throw new IllegalArgumentException(verb.word() + " " + s.kind() + ": no name");
            }
            if (verb == Verb.ADD || verb == Verb.CREATE) {
                if (s.type() == null || s.type().isBlank()) {
                    throw new IllegalArgumentException(verb.word() + " " + s.kind() + " " + s.name() + ": no type");
                }
                if (s.map() != s.type().contains(" : ")) {
                    throw new IllegalArgumentException(verb.word() + " " + s.kind() + " " + s.name() + ": type \"" + s.type()
                            + "\" " + (s.map() ? "has no \" : \" between key and value" : "is a map's"));
                }
            }
        } else if (object instanceof NftObject.Element e) {
            require(verb == Verb.ADD || verb == Verb.CREATE || verb == Verb.DELETE || verb == Verb.DESTROY, verb, e);
            if (e.container() == null || e.container().isEmpty()) {
                throw new IllegalArgumentException(verb.word() + " element: no set or map");
            }
            if (e.key().isEmpty() || e.key().stream().anyMatch(k -> k == null || k.isBlank())) {
                throw new IllegalArgumentException(verb.word() + " element of " + e.container() + ": empty key");
            }
            if (!e.inMap() && !e.value().isEmpty()) {
                throw new IllegalArgumentException(verb.word() + " element of set " + e.container() + ": a set element has no value");
            }
            if (e.inMap() && (verb == Verb.ADD || verb == Verb.CREATE) && e.value().isEmpty()) {
                throw new IllegalArgumentException(verb.word() + " element of map " + e.container() + ": no value");
            }
        }
    }

    private static void require(boolean ok, Verb verb, NftObject object) {
        if (!ok) {
            throw new IllegalArgumentException(verb.word() + " is not an operation on a " + object.kind());
        }
    }

    /** The text for {@code nft -f -}: one command a line. */
    public String render() {
        StringBuilder out = new StringBuilder(64 + ops.size() * 96);
        for (Op op : ops) {
            write(out, op);
            out.append('\n');
        }
        return out.toString();
    }

    /**
     * The text a dataplane hands {@code nft -f -}: {@link #render}'s commands, except that each run of rules added
     * to one chain is written as that chain's block, {@code add chain F T C \{} then one rule a line, then
     * {@code \}}. The kernel gets the same rules in the same order (and a no-op update of a chain the transaction
     * already holds), but nft 1.0.x evaluates a chain block with only the tables in its cache, while a single
     * {@code add rule} (as {@code add element} and {@code delete}) makes it first dump every chain of the ruleset:
     * 220 netlink reads and ~300 ms at 10,000 Services x 5 endpoints (60,000 chains), the whole cost of a
     * one-Service change that only rewrites chains (docs/benchmarks/upstream-nftables.md). Every chain a block
     * wraps has been added before it (the renderer adds and flushes each chain it writes), so the block's own
     * {@code add chain} creates nothing.
     */
    public String renderBlocks() {
        StringBuilder out = new StringBuilder(64 + ops.size() * 96);
        String open = null;
        for (Op op : ops) {
            if (op.verb() == Verb.ADD && op.object() instanceof NftObject.Rule r && r.handle() == null) {
                if (!r.chain().equals(open)) {
                    if (open != null) {
                        out.append("}\n");
                    }
                    out.append("add chain ").append(family).append(' ').append(table).append(' ').append(r.chain()).append(" {\n");
                    open = r.chain();
                }
                out.append(r.rule());
                if (r.comment() != null) {
                    out.append(" comment ").append(quote(r.comment()));
                }
                out.append('\n');
                continue;
            }
            if (open != null) {
                out.append("}\n");
                open = null;
            }
            write(out, op);
            out.append('\n');
        }
        if (open != null) {
            out.append("}\n");
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return render();
    }

    private void write(StringBuilder out, Op op) {
        Verb verb = op.verb();
        String head = verb.word() + " " + op.object().kind() + " " + family + " " + table;
        boolean adding = verb == Verb.ADD || verb == Verb.CREATE;
        NftObject object = op.object();
        if (object instanceof NftObject.Table t) {
            out.append(verb.word()).append(" table ").append(family).append(' ').append(table);
            if (adding && t.comment() != null) {
                out.append(" { comment ").append(quote(t.comment())).append(" ; }");
            }
        } else if (object instanceof NftObject.Chain c) {
            out.append(head);
            if (c.name() == null) {
                out.append(" handle ").append(c.handle());
                return;
            }
            out.append(' ').append(c.name());
            if (adding && (c.base() != null || c.comment() != null)) {
                out.append(" {");
                if (c.base() != null) {
                    out.append(" type ").append(c.base().type()).append(" hook ").append(c.base().hook())
                            .append(" priority ").append(c.base().priority()).append(" ;");
                }
                if (c.comment() != null) {
                    out.append(" comment ").append(quote(c.comment())).append(" ;");
                }
                out.append(" }");
            }
        } else if (object instanceof NftObject.Rule r) {
            out.append(head).append(' ').append(r.chain());
            if (r.handle() != null) {
                out.append(" handle ").append(r.handle());
            }
            if (verb == Verb.ADD || verb == Verb.INSERT || verb == Verb.REPLACE) {
                out.append(' ').append(r.rule());
                if (r.comment() != null) {
                    out.append(" comment ").append(quote(r.comment()));
                }
            }
        } else if (object instanceof NftObject.Container s) {
            out.append(head).append(' ').append(s.name());
            if (adding) {
                // A "typeof ..." key (ServiceDispatch's slot map) is written as it is.
                out.append(s.type().startsWith("typeof ") ? " { " : " { type ").append(s.type()).append(" ;");
                if (!s.flags().isEmpty()) {
                    out.append(" flags ").append(String.join(",", s.flags())).append(" ;");
                }
                if (s.timeoutSeconds() > 0) {
                    out.append(" timeout ").append(s.timeoutSeconds()).append("s ;");
                }
                if (s.comment() != null) {
                    out.append(" comment ").append(quote(s.comment())).append(" ;");
                }
                out.append(" }");
            }
        } else if (object instanceof NftObject.Element e) {
            out.append(verb.word()).append(" element ").append(family).append(' ').append(table).append(' ')
                    .append(e.container()).append(" { ").append(e.keyText());
            if (adding) {
                if (e.comment() != null) {
                    out.append(" comment ").append(quote(e.comment()));
                }
                if (!e.value().isEmpty()) {
                    out.append(" : ").append(e.valueText());
                }
            }
            out.append(" }");
        }
    }

    /** nft strings have no escapes; {@link NftObject} already refused what cannot be quoted. */
    static String quote(String text) {
        return "\"" + text + "\"";
    }
}
