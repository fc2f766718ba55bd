package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads {@code ipvsadm -Sn} output (lines {@code -A -t VIP:port -s rr} and {@code -a -t VIP:port -r RIP:port -m -w 1});
 * IPv6 addresses come in brackets ({@code -A -t [2001:db8:1::10]:80 -s rr}) and are kept without them.
 */
final class IpvsSaveParser {

    record Table(List<VirtualServer> virtualServers, List<RealServer> realServers) {

        /**
         * The virtual servers of {@code family} and their real servers: what one family's instance may see of the
         * kernel's one IPVS table (the other family's are never its to diff, drain or delete).
         */
        Table of(IpFamily family) {
            List<VirtualServer> vs = virtualServers.stream().filter(v -> family.matches(v.address())).toList();
            Set<String> keys = new HashSet<>();
            vs.forEach(v -> keys.add(v.key()));
            return new Table(vs, realServers.stream().filter(r -> keys.contains(r.virtualKey())).toList());
        }
    }

    private IpvsSaveParser() {
    }

    static Table parse(String text) {
        List<VirtualServer> vs = new ArrayList<>();
        List<RealServer> rs = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] t = line.trim().split("\\s+");
            if (t.length < 3)
                continue;
            Protocol proto = switch (t[1]) {
                case "-t" -> Protocol.TCP;
                case "-u" -> Protocol.UDP;
                case "--sctp-service" -> Protocol.SCTP;
                default -> null;
            };
            if (proto == null)
                continue; // fwmark services are never ours
            String[] hp = splitHostPort(t[2]);
            if (t[0].equals("-A")) {
                String sched = "wlc";
                Set<String> flags = new HashSet<>();
                int persistence = 0;
                for (int i = 3; i < t.length; i++) {
                    switch (t[i]) {
                        case "-s" -> sched = t[++i];
                        case "-b" -> flags.addAll(List.of(t[++i].split(",")));
                        case "-p" -> persistence = i + 1 < t.length && !t[i + 1].startsWith("-")
                                ? Integer.parseInt(t[++i])
                                : 300;
                        default -> {
                        }
                    }
                }
                vs.add(new VirtualServer(proto, hp[0], Integer.parseInt(hp[1]), sched, flags, persistence));
            } else if (t[0].equals("-a")) {
                String key = proto.lower() + ":" + hp[0] + ":" + hp[1];
                String[] real = null;
                int weight = 1;
                for (int i = 3; i < t.length; i++) {
                    if (t[i].equals("-r"))
                        real = splitHostPort(t[++i]);
                    else if (t[i].equals("-w"))
                        weight = Integer.parseInt(t[++i]);
                }
                if (real != null)
                    rs.add(new RealServer(key, real[0], Integer.parseInt(real[1]), weight));
            }
        }
        return new Table(List.copyOf(vs), List.copyOf(rs));
    }

    private static String[] splitHostPort(String s) {
        int i = s.lastIndexOf(':');
        String host = s.substring(0, i);
        if (host.startsWith("["))
            host = host.substring(1, host.length() - 1);
        return new String[] {host, s.substring(i + 1)};
    }
}
