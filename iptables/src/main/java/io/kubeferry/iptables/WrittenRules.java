package io.kubeferry.iptables;

import java.util.Map;
import java.util.TreeMap;

/**
 * How many rules an iptables-restore input writes per table: upstream's sync_proxy_rules_iptables_last
 * (a partial sync writes only the chains that changed, so this is below the rules owned).
 */
final class WrittenRules {

    private WrittenRules() {
    }

    /** Rules ("-A" lines) per table ("*filter", "*nat" sections) of a restore input. */
    static Map<String, Integer> count(String restoreText) {
        Map<String, Integer> counts = new TreeMap<>();
        String table = null;
        for (String line : restoreText.split("\n", -1)) {
            if (line.startsWith("*")) {
                table = line.substring(1).trim();
                counts.putIfAbsent(table, 0);
            } else if (table != null && line.startsWith("-A ")) {
                counts.merge(table, 1, Integer::sum);
            }
        }
        return counts;
    }
}
