package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.IpFamily;

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
        return program(desired, current, create, IpFamily.IPv4);
    }

    /**
     * The same for {@code family}'s sets: the maps are keyed by the sets' IPv4 names ({@link Ipset#name()}, what the
     * renderer uses whatever the family), the program names {@code family}'s ({@link Ipset#name(IpFamily)}).
     */
    static String program(Map<String, SortedSet<String>> desired, Map<String, SortedSet<String>> current, boolean create,
            IpFamily family) {
        StringBuilder out = new StringBuilder();
        if (create) {
            Ipset.ALL.forEach(s -> out.append(s.createLine(family)).append('\n'));
        }
        for (Map.Entry<String, SortedSet<String>> e : current.entrySet()) {
            SortedSet<String> want = desired.getOrDefault(e.getKey(), new TreeSet<>());
            for (String member : e.getValue()) {
                if (!want.contains(member)) {
                    out.append("del ").append(named(e.getKey(), family)).append(' ').append(member).append('\n');
                }
            }
        }
        for (Map.Entry<String, SortedSet<String>> e : desired.entrySet()) {
            SortedSet<String> have = current.getOrDefault(e.getKey(), new TreeSet<>());
            for (String member : e.getValue()) {
                if (!have.contains(member)) {
                    out.append("add ").append(named(e.getKey(), family)).append(' ').append(member).append('\n');
                }
            }
        }
        return out.toString();
    }

    /** The members of kube-ferry's sets in {@code ipset save} output; other sets are not ours and are ignored. */
    static Map<String, SortedSet<String>> parseSave(String text) {
        return parseSave(text, IpFamily.IPv4);
    }

    /**
     * The members of {@code family}'s sets in {@code ipset save} output, keyed by the sets' IPv4 names; the other
     * family's sets (and anyone else's) are ignored.
     */
    static Map<String, SortedSet<String>> parseSave(String text, IpFamily family) {
        Map<String, SortedSet<String>> sets = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] t = line.trim().split("\\s+");
            Ipset set = t.length >= 3 && t[0].equals("add") ? Ipset.named(t[1], family) : null;
            if (set != null) {
                sets.computeIfAbsent(set.name(), k -> new TreeSet<>()).add(t[2]);
            }
        }
        return sets;
    }

    /** {@code family}'s name of the set whose IPv4 name is {@code name} (a name that is no set of ours stays). */
    private static String named(String name, IpFamily family) {
        Ipset set = Ipset.named(name, IpFamily.IPv4);
        return set == null ? name : set.name(family);
    }
}
