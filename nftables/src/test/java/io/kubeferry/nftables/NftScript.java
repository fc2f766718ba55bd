package io.kubeferry.nftables;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code nft -f} text of the shapes {@link NftTransaction#render} and {@link NftTransaction#renderBlocks}
 * write back into a transaction, so a fake tool runner can hand what a dataplane sends to {@link FakeNft}. Only
 * those shapes: one command a line, or a chain block ({@code add chain F T C \{}, one rule a line, {@code \}}),
 * read back as the rules it holds (the renderer added the chain before: the block's own add creates nothing);
 * {@code #} lines skipped; anything else is an error, as it would be a bug in the renderer.
 */
final class NftScript {

    private static final Pattern HEAD = Pattern
            .compile("(add|create|insert|replace|delete|destroy|flush) (table|chain|rule|set|map|element) (\\S+) (\\S+)(.*)");
    private static final Pattern COMMENT_END = Pattern.compile("(.*) comment \"([^\"]*)\"$");
    private static final Pattern BASE = Pattern.compile("type (\\S+) hook (\\S+) priority (-?\\d+) ;");
    private static final Pattern QUOTED_COMMENT = Pattern.compile("comment \"([^\"]*)\" ;");

    private NftScript() {
    }

    static NftTransaction parse(String text) {
        NftTransaction tx = null;
        int n = 0;
        String block = null;
        for (String line : text.split("\n")) {
            n++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (block != null) {
                if (line.equals("}")) {
                    block = null;
                } else {
                    tx.op(NftTransaction.Verb.ADD, object("rule", NftTransaction.Verb.ADD, block + " " + line, n));
                }
                continue;
            }
            Matcher m = HEAD.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("line " + n + ": not a command: " + line);
            }
            if (tx == null) {
                tx = new NftTransaction(m.group(3), m.group(4));
            } else if (!tx.family().equals(m.group(3)) || !tx.table().equals(m.group(4))) {
                throw new IllegalArgumentException("line " + n + ": another table: " + line);
            }
            NftTransaction.Verb verb = NftTransaction.Verb.valueOf(m.group(1).toUpperCase(Locale.ROOT));
            String rest = m.group(5).strip();
            if (verb == NftTransaction.Verb.ADD && m.group(2).equals("chain") && rest.endsWith(" {")
                    && rest.indexOf(' ') == rest.length() - 2) {
                block = rest.substring(0, rest.length() - 2);
                continue;
            }
            tx.op(verb, object(m.group(2), verb, rest, n));
        }
        if (block != null) {
            throw new IllegalArgumentException("chain block " + block + " not closed");
        }
        if (tx == null) {
            throw new IllegalArgumentException("no command");
        }
        return tx;
    }

    private static NftObject object(String kind, NftTransaction.Verb verb, String rest, int n) {
        switch (kind) {
            case "table" -> {
                Matcher c = QUOTED_COMMENT.matcher(rest);
                return new NftObject.Table(c.find() ? c.group(1) : null);
            }
            case "chain" -> {
                if (rest.startsWith("handle ")) {
                    return new NftObject.Chain(null, null, null, Long.parseLong(rest.substring(7).strip()));
                }
                String name = word(rest);
                String spec = rest.substring(name.length());
                Matcher b = BASE.matcher(spec);
                Matcher c = QUOTED_COMMENT.matcher(spec);
                return new NftObject.Chain(name, b.find() ? new NftObject.Base(b.group(1), b.group(2), Integer.parseInt(b.group(3))) : null,
                        c.find() ? c.group(1) : null, null);
            }
            case "rule" -> {
                String chain = word(rest);
                String body = rest.substring(chain.length()).strip();
                Long handle = null;
                if (body.startsWith("handle ")) {
                    String h = word(body.substring(7));
                    handle = Long.parseLong(h);
                    body = body.substring(7 + h.length()).strip();
                }
                String comment = null;
                Matcher c = COMMENT_END.matcher(body);
                if (c.matches()) {
                    body = c.group(1);
                    comment = c.group(2);
                }
                return new NftObject.Rule(chain, body.isEmpty() ? null : body, comment, handle);
            }
            case "set", "map" -> {
                String name = word(rest);
                String spec = rest.substring(name.length()).strip();
                if (spec.isEmpty()) {
                    return new NftObject.Container(kind.equals("map"), name, null, List.of(), 0, null);
                }
                String inner = spec.substring(1, spec.length() - 1).strip();
                String type = null;
                List<String> flags = List.of();
                long timeout = 0;
                String comment = null;
                for (String part : inner.split(" ; ?")) {
                    part = part.strip();
                    if (part.startsWith("type ")) {
                        type = part.substring(5);
                    } else if (part.startsWith("typeof ")) {
                        // Kept with its keyword, as NftObject.Container holds it (ServiceDispatch's slot map).
                        type = part;
                    } else if (part.startsWith("flags ")) {
                        flags = List.of(part.substring(6).split(","));
                    } else if (part.startsWith("timeout ")) {
                        timeout = Long.parseLong(part.substring(8, part.length() - 1));
                    } else if (part.startsWith("comment ")) {
                        comment = part.substring(9, part.length() - 1);
                    } else if (!part.isEmpty() && !part.equals(";")) {
                        throw new IllegalArgumentException("line " + n + ": unknown " + kind + " property: " + part);
                    }
                }
                return new NftObject.Container(kind.equals("map"), name, type, flags, timeout, comment);
            }
            default -> {
                String name = word(rest);
                String inner = rest.substring(name.length()).strip();
                inner = inner.substring(1, inner.length() - 1).strip();
                String value = "";
                int colon = inner.indexOf(" : ");
                if (colon >= 0) {
                    value = inner.substring(colon + 3).strip();
                    inner = inner.substring(0, colon);
                }
                String comment = null;
                Matcher c = COMMENT_END.matcher(inner);
                if (c.matches()) {
                    inner = c.group(1);
                    comment = c.group(2);
                }
                List<String> key = new ArrayList<>(List.of(inner.strip().split(" \\. ")));
                return new NftObject.Element(!value.isEmpty(), name, key, value.isEmpty() ? List.of() : List.of(value), comment);
            }
        }
    }

    private static String word(String text) {
        int space = text.indexOf(' ');
        return space < 0 ? text : text.substring(0, space);
    }
}
