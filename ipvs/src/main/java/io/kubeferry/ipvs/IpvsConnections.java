package io.kubeferry.ipvs;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code ipvsadm -Lnc} (one line per IPVS connection) into the number of live connections per real
 * server ({@link RealServer#key()}). Entries in TIME_WAIT or CLOSE carry no more data and persistence
 * templates (state NONE) are no connection, so they are not counted: waiting for them is what makes a drain
 * take two minutes after the last client has gone.
 */
final class IpvsConnections {

    private static final Set<String> FINISHED = Set.of("TIME_WAIT", "CLOSE", "NONE");

    private IpvsConnections() {
    }

    static Map<String, Integer> live(String text) {
        Map<String, Integer> counts = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] t = line.trim().split("\\s+");
            // pro expire state source virtual destination
            if (t.length < 6 || t[0].equals("pro") || t[0].equals("IPVS"))
                continue;
            if (FINISHED.contains(t[2]))
                continue;
            String proto = t[0].toLowerCase(Locale.ROOT);
            String key = proto + ":" + stripBrackets(t[4]) + ">" + stripBrackets(t[5]);
            counts.merge(key, 1, Integer::sum);
        }
        return counts;
    }

    /** {@code 198.19.0.1:80} stays; {@code [fd00::1]:80} becomes {@code fd00::1:80}, as the keys are built. */
    private static String stripBrackets(String hostPort) {
        return hostPort.replace("[", "").replace("]", "");
    }
}
