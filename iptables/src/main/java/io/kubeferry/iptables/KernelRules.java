package io.kubeferry.iptables;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * What {@code iptables-save} says is in the kernel, as far as kube-ferry cares: the chains and rules of
 * each table. Shared by both modes (IPVS mode also writes iptables rules).
 */
public record KernelRules(Map<String, Set<String>> chainsByTable, Map<String, List<String>> rulesByTable) {

    public static KernelRules parse(String save) {
        Map<String, Set<String>> chains = new HashMap<>();
        Map<String, List<String>> rules = new HashMap<>();
        String table = "";
        for (String line : save.split("\n")) {
            if (line.startsWith("*")) {
                table = line.substring(1).trim();
                chains.computeIfAbsent(table, t -> new HashSet<>());
                rules.computeIfAbsent(table, t -> new ArrayList<>());
            } else if (line.startsWith(":")) {
                int space = line.indexOf(' ');
                chains.computeIfAbsent(table, t -> new HashSet<>()).add(space < 0 ? line.substring(1) : line.substring(1, space));
            } else if (line.startsWith("-A ")) {
                rules.computeIfAbsent(table, t -> new ArrayList<>()).add(line);
            }
        }
        return new KernelRules(chains, rules);
    }

    public Set<String> chains(String table) {
        return chainsByTable.getOrDefault(table, Set.of());
    }

    public List<String> rules(String table) {
        return rulesByTable.getOrDefault(table, List.of());
    }

    /** The jump rules of {@code candidates} that are already in the kernel. */
    public Set<JumpRule> presentJumps(List<JumpRule> candidates) {
        Set<JumpRule> present = new HashSet<>();
        for (JumpRule jump : candidates) {
            if (rules(jump.table()).stream().anyMatch(jump::matches)) {
                present.add(jump);
            }
        }
        return present;
    }

    /**
     * A restore that deletes every rule jumping into the chains {@code ours(table, chain)} picks from chains
     * it does not pick, then flushes and deletes the picked chains; "" when there is nothing to remove.
     */
    public String removalProgram(BiPredicate<String, String> ours) {
        StringBuilder out = new StringBuilder();
        for (String table : List.of("filter", "nat", "mangle")) {
            List<String> picked = chains(table).stream().filter(c -> ours.test(table, c)).sorted().toList();
            if (picked.isEmpty()) {
                continue;
            }
            // A set, and each rule's one target looked up in it: at 10,000 Services (60,000 chains, 100,000
            // rules) matching every rule against every picked chain took cleanup past 6 minutes of CPU.
            Set<String> pickedSet = new HashSet<>(picked);
            out.append('*').append(table).append('\n');
            for (String chain : picked) {
                out.append(':').append(chain).append(" - [0:0]\n");
            }
            for (String rule : rules(table)) {
                String chain = rule.split(" ", 3)[1];
                String target = target(rule);
                if (!pickedSet.contains(chain) && target != null && pickedSet.contains(target)) {
                    out.append("-D").append(rule.substring(2)).append('\n');
                }
            }
            for (String chain : picked) {
                out.append("-X ").append(chain).append('\n');
            }
            out.append("COMMIT\n");
        }
        return out.toString();
    }

    /** The chain a saved rule jumps or goes to ({@code -j X} or {@code -g X}), or null for none. */
    static String target(String rule) {
        String[] words = rule.split(" ");
        for (int i = words.length - 2; i >= 0; i--) {
            if (words[i].equals("-j") || words[i].equals("-g")) {
                return words[i + 1];
            }
        }
        return null;
    }
}
