package io.kubeferry.ipvs;

import java.util.HashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/** Pure: ipset members wanted vs present -> one {@code ipset restore -exist} input; and {@code ipset save} read back. */
final class IpsetDiff {

    private IpsetDiff() {
    }

    /**
     * One {@code ipset restore -exist} input: creates (full syncs; no-ops for sets that exist), then removals,
     * then additions, so an entry the kernel prints differently from how it was written still ends up present.
     */
    static String program(Map<String, SortedSet<String>> desired, Map<String, SortedSet<String>> current, boolean create) {
        StringBuilder out = new StringBuilder();
        if (create) {
            Ipset.ALL.forEach(s -> out.append(s.createLine()).append('\n'));
        }
        for (Map.Entry<String, SortedSet<String>> e : current.entrySet()) {
            SortedSet<String> want = desired.getOrDefault(e.getKey(), new TreeSet<>());
            for (String member : e.getValue()) {
                if (!want.contains(member)) {
                    out.append("del ").append(e.getKey()).append(' ').append(member).append('\n');
                }
            }
        }
        for (Map.Entry<String, SortedSet<String>> e : desired.entrySet()) {
            SortedSet<String> have = current.getOrDefault(e.getKey(), new TreeSet<>());
            for (String member : e.getValue()) {
                if (!have.contains(member)) {
                    out.append("add ").append(e.getKey()).append(' ').append(member).append('\n');
                }
            }
        }
        return out.toString();
    }

    /** The members of kube-ferry's sets in {@code ipset save} output; other sets are not ours and are ignored. */
    static Map<String, SortedSet<String>> parseSave(String text) {
        Map<String, SortedSet<String>> sets = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] t = line.trim().split("\\s+");
            if (t.length >= 3 && t[0].equals("add") && Ipset.ours(t[1])) {
                sets.computeIfAbsent(t[1], k -> new TreeSet<>()).add(t[2]);
            }
        }
        return sets;
    }
}
