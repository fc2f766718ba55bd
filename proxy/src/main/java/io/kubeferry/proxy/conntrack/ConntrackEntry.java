package io.kubeferry.proxy.conntrack;

import java.util.Optional;

/**
 * One flow as {@code conntrack -L} prints it: the original tuple and the reply tuple (whose source is the
 * endpoint when the flow was DNATed).
 */
record ConntrackEntry(String protocol, String origSrc, String origDst, int origSport, int origDport,
        String replySrc, int replySport) {

    /** Parses a line like {@code udp 17 29 src=A dst=B sport=1 dport=2 src=C dst=A sport=2 dport=1 mark=0 use=1}. */
    static Optional<ConntrackEntry> parse(String line) {
        String[] fields = line.trim().split("\\s+");
        if (fields.length < 3) {
            return Optional.empty();
        }
        String[] src = new String[2];
        String[] dst = new String[2];
        String[] sport = new String[2];
        String[] dport = new String[2];
        int srcSeen = 0;
        int dstSeen = 0;
        int sportSeen = 0;
        int dportSeen = 0;
        for (String f : fields) {
            if (f.startsWith("src=") && srcSeen < 2) {
                src[srcSeen++] = f.substring(4);
            } else if (f.startsWith("dst=") && dstSeen < 2) {
                dst[dstSeen++] = f.substring(4);
            } else if (f.startsWith("sport=") && sportSeen < 2) {
                sport[sportSeen++] = f.substring(6);
            } else if (f.startsWith("dport=") && dportSeen < 2) {
                dport[dportSeen++] = f.substring(6);
            }
        }
        if (srcSeen < 2 || dstSeen < 2 || sportSeen < 2 || dportSeen < 2) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ConntrackEntry(fields[0], src[0], dst[0], Integer.parseInt(sport[0]),
                    Integer.parseInt(dport[0]), src[1], Integer.parseInt(sport[1])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
