package io.kubeferry.iptables;

import java.util.List;

/**
 * iptables-restore input written a word at a time, as upstream's LineBuffer (k8s.io/kubernetes
 * pkg/proxy/util/linebuffer.go) writes it: each call is one line, its words joined by single spaces. A word is
 * a String, or a List of words (an empty list adds nothing: the way to leave out an optional part).
 *
 * <p>This is the one place that quotes: {@link #comment} puts a comment's text in double quotes, as iptables-save
 * prints a comment with spaces, and escapes the characters iptables-save escapes, so whatever the text holds the
 * line stays one rule. Every other word is written as it is and must not need quoting.
 */
public final class RuleWriter {

    private final StringBuilder text;
    private int rules;

    public RuleWriter(int capacity) {
        text = new StringBuilder(capacity);
    }

    /** A rule ({@code -A CHAIN ...}); counted. */
    public RuleWriter rule(Object... words) {
        rules++;
        return line(words);
    }

    /** A line that is not a rule: a table header, COMMIT, a jump insertion, a chain deletion. */
    public RuleWriter line(Object... words) {
        int start = text.length();
        for (Object word : words) {
            append(word, start);
        }
        text.append('\n');
        return this;
    }

    /** Declares a chain; with {@code --noflush} this also flushes it. */
    public RuleWriter chain(String name) {
        text.append(':').append(name).append(" - [0:0]\n");
        return this;
    }

    /** Appends what another writer wrote, as it is; its rules count here too. */
    public RuleWriter append(RuleWriter other) {
        text.append(other.text);
        rules += other.rules;
        return this;
    }

    private void append(Object word, int lineStart) {
        if (word instanceof String s) {
            if (text.length() > lineStart) {
                text.append(' ');
            }
            text.append(s);
        } else if (word instanceof List<?> words) {
            for (Object w : words) {
                append(w, lineStart);
            }
        } else {
            throw new IllegalArgumentException("a rule's word is a String or a List of them, not " + word);
        }
    }

    /** Rules written so far (declarations and other lines are not counted). */
    public int rules() {
        return rules;
    }

    public int length() {
        return text.length();
    }

    public String text() {
        return text.toString();
    }

    /** The lines written, one String each (for the small per-Service buffers). */
    List<String> lines() {
        return text.isEmpty() ? List.of() : List.of(text.toString().split("\n"));
    }

    /** The comment match, {@code -m comment --comment "TEXT"}. */
    public static List<String> comment(String text) {
        return List.of("-m", "comment", "--comment", quoted(text));
    }

    /**
     * {@code text} in double quotes, with backslash before the characters iptables-save escapes ({@code " \ '}):
     * iptables-restore reads it back as one word whatever it holds.
     */
    static String quoted(String text) {
        if (text.indexOf('"') < 0 && text.indexOf('\\') < 0 && text.indexOf('\'') < 0) {
            return '"' + text + '"';
        }
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (ch == '"' || ch == '\\' || ch == '\'') {
                out.append('\\');
            }
            out.append(ch);
        }
        return out.append('"').toString();
    }
}
