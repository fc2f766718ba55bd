package io.kubeferry.it.peer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An {@code iptables-save} output made comparable: comment and header lines (dates, versions) and packet/byte
 * counters dropped; tables and their chains in sorted order; each chain's rules in the order the kernel holds
 * them (order is meaning in a chain, so it is kept).
 *
 * @param tables table name -> chain name -> chain
 */
public record SavedRuleset(Map<String, Map<String, Chain>> tables) {

    /** A chain: its policy ({@code -} for a user chain) and its rules, each as {@code -A CHAIN ...}. */
    public record Chain(String policy, List<String> rules) {
    }

    /** One line that is in only one of two rulesets: the side that has it, the table, and the line. */
    public record Difference(String side, String table, String line) {

        @Override
        public String toString() {
            return side + " " + table + ": " + line;
        }
    }

    public static SavedRuleset parse(String save) {
        Map<String, Map<String, Chain>> tables = new TreeMap<>();
        Map<String, Chain> table = null;
        List<String> lines = save.lines().toList();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#") || line.equals("COMMIT")) {
                continue;
            }
            if (line.startsWith("*")) {
                table = tables.computeIfAbsent(line.substring(1), t -> new TreeMap<>());
            } else if (line.startsWith(":")) {
                String[] f = line.substring(1).split(" ");
                table(table, line).put(f[0], new Chain(f.length > 1 ? f[1] : "-", new ArrayList<>()));
            } else if (line.startsWith("-A ")) {
                String chain = line.split(" ")[1];
                Chain c = table(table, line).get(chain);
                if (c == null) {
                    throw new IllegalArgumentException("rule for an undeclared chain: " + line);
                }
                c.rules().add(line);
            } else {
                throw new IllegalArgumentException("not an iptables-save line (" + (n + 1) + "): " + line
                        + (n > 0 ? "\nafter: " + lines.get(n - 1) : ""));
            }
        }
        return new SavedRuleset(tables);
    }

    private static Map<String, Chain> table(Map<String, Chain> table, String line) {
        if (table == null) {
            throw new IllegalArgumentException("a line before any *table: " + line);
        }
        return table;
    }

    /**
     * The chains upstream kube-proxy fills while iterating a Go map of Services (proxier.go, {@code for svcName, svc
     * := range proxier.svcPortMap}), so their order across Services is random from run to run; table/chain.
     */
    public static final Set<String> DISPATCH_CHAINS = Set.of("nat/KUBE-SERVICES", "nat/KUBE-NODEPORTS", "filter/KUBE-SERVICES",
            "filter/KUBE-EXTERNAL-SERVICES", "filter/KUBE-NODEPORTS", "filter/KUBE-PROXY-FIREWALL");

    private static final Pattern SERVICE_COMMENT = Pattern.compile("--comment \"?([^\" ]+/[^\" ]+:[^\" ]*)");

    /**
     * The same ruleset with each run of consecutive Service rules in {@code chains} ordered by Service port name
     * ({@code ns/name:port}, the comment's first word), stably: one Service's own rules keep their order, and rules
     * that belong to no Service (the closing jump to KUBE-NODEPORTS) keep their place. Rules for different
     * Services there match disjoint destination, protocol and port, so the order across Services has no meaning,
     * and upstream's is random.
     */
    public SavedRuleset orderedByService(Set<String> chains) {
        Map<String, Map<String, Chain>> out = new TreeMap<>();
        tables.forEach((table, cs) -> {
            Map<String, Chain> copy = new TreeMap<>();
            cs.forEach((name, c) -> copy.put(name, chains.contains(table + "/" + name) ? new Chain(c.policy(), byService(c.rules())) : c));
            out.put(table, copy);
        });
        return new SavedRuleset(out);
    }

    private static List<String> byService(List<String> rules) {
        List<String> out = new ArrayList<>();
        List<String> run = new ArrayList<>();
        for (String rule : rules) {
            if (serviceOf(rule) != null) {
                run.add(rule);
                continue;
            }
            run.sort(Comparator.comparing(SavedRuleset::serviceOf));
            out.addAll(run);
            run.clear();
            out.add(rule);
        }
        run.sort(Comparator.comparing(SavedRuleset::serviceOf));
        out.addAll(run);
        return out;
    }

    private static String serviceOf(String rule) {
        Matcher m = SERVICE_COMMENT.matcher(rule);
        return m.find() ? m.group(1) : null;
    }

    /** The same ruleset with {@code prefix} before each table's name (e.g. "ip6 " for ip6tables-save's). */
    public SavedRuleset prefixed(String prefix) {
        Map<String, Map<String, Chain>> out = new TreeMap<>();
        tables.forEach((table, chains) -> out.put(prefix + table, chains));
        return new SavedRuleset(out);
    }

    /** The normal form as text: {@code *table}, then per chain (sorted) its declaration and rules. */
    public String text() {
        StringBuilder out = new StringBuilder();
        tables.forEach((name, chains) -> {
            out.append('*').append(name).append('\n');
            chains.forEach((chain, c) -> {
                out.append(':').append(chain).append(' ').append(c.policy()).append('\n');
                c.rules().forEach(r -> out.append(r).append('\n'));
            });
        });
        return out.toString();
    }

    /**
     * The lines only one side has, per table and chain: a chain's declaration when only one side has the chain (or
     * another policy), and its rules by a longest-common-subsequence match, so a rule in another place shows as
     * one line removed and one added.
     */
    public static List<Difference> diff(String leftName, SavedRuleset left, String rightName, SavedRuleset right) {
        List<Difference> out = new ArrayList<>();
        TreeMap<String, Boolean> tableNames = new TreeMap<>();
        left.tables.keySet().forEach(t -> tableNames.put(t, true));
        right.tables.keySet().forEach(t -> tableNames.put(t, true));
        for (String table : tableNames.keySet()) {
            Map<String, Chain> l = left.tables.getOrDefault(table, Map.of());
            Map<String, Chain> r = right.tables.getOrDefault(table, Map.of());
            TreeMap<String, Boolean> chains = new TreeMap<>();
            l.keySet().forEach(c -> chains.put(c, true));
            r.keySet().forEach(c -> chains.put(c, true));
            for (String chain : chains.keySet()) {
                Chain lc = l.get(chain);
                Chain rc = r.get(chain);
                if (lc == null || rc == null || !lc.policy().equals(rc.policy())) {
                    if (lc != null) {
                        out.add(new Difference(leftName, table, ":" + chain + " " + lc.policy()));
                    }
                    if (rc != null) {
                        out.add(new Difference(rightName, table, ":" + chain + " " + rc.policy()));
                    }
                }
                List<String> lr = lc == null ? List.of() : lc.rules();
                List<String> rr = rc == null ? List.of() : rc.rules();
                lcsDiff(lr, rr, leftName, rightName, table, out);
            }
        }
        return out;
    }

    private static void lcsDiff(List<String> a, List<String> b, String aName, String bName, String table, List<Difference> out) {
        int[][] lcs = new int[a.size() + 1][b.size() + 1];
        for (int i = a.size() - 1; i >= 0; i--) {
            for (int j = b.size() - 1; j >= 0; j--) {
                lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        int i = 0;
        int j = 0;
        while (i < a.size() || j < b.size()) {
            if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
                i++;
                j++;
            } else if (j == b.size() || (i < a.size() && lcs[i + 1][j] >= lcs[i][j + 1])) {
                out.add(new Difference(aName, table, a.get(i++)));
            } else {
                out.add(new Difference(bName, table, b.get(j++)));
            }
        }
    }
}
