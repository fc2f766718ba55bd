package io.kubeferry.ipvs;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class IpvsDiffTest {

    private static IpvsSaveParser.Table t(String s) {
        return IpvsSaveParser.parse(s);
    }

    @Test
    void addsMissing() {
        var p = IpvsDiff.between(t("-A -t 198.19.0.1:80 -s rr\n-a -t 198.19.0.1:80 -r 198.18.0.2:8080 -m -w 1"), t(""), v -> true);
        assertEquals(List.of("-A -t 198.19.0.1:80 -s rr", "-a -t 198.19.0.1:80 -r 198.18.0.2:8080 -m -w 1"), p.lines());
    }

    @Test
    void schedulerChangeIsEditNotReAdd() {
        var p = IpvsDiff.between(t("-A -t 198.19.0.1:80 -s sh -b sh-port"), t("-A -t 198.19.0.1:80 -s rr"), v -> true);
        assertEquals(List.of("-E -t 198.19.0.1:80 -s sh -b sh-port"), p.lines());
    }

    @Test
    void persistenceChangeIsEdit() {
        var p = IpvsDiff.between(t("-A -t 198.19.0.1:80 -s rr -p 10800"), t("-A -t 198.19.0.1:80 -s rr"), v -> true);
        assertEquals(List.of("-E -t 198.19.0.1:80 -s rr -p 10800"), p.lines());
    }

    @Test
    void removedEndpointGoesToWeightZero() {
        var p = IpvsDiff.between(t("-A -t 198.19.0.1:80 -s rr"),
                t("-A -t 198.19.0.1:80 -s rr\n-a -t 198.19.0.1:80 -r 198.18.0.2:8080 -m -w 1"), v -> true);
        assertEquals(List.of("-e -t 198.19.0.1:80 -r 198.18.0.2:8080 -m -w 0"), p.lines());
    }

    @Test
    void aTcpRealServerToCutIsDeletedAtOnceWhateverItsWeight() {
        var current = t("-A -t 198.19.0.1:80 -s rr\n-a -t 198.19.0.1:80 -r 198.18.0.2:8080 -m -w 1\n"
                + "-a -t 198.19.0.1:80 -r 198.18.0.3:8080 -m -w 0\n-a -t 198.19.0.1:80 -r 198.18.0.4:8080 -m -w 1");
        var p = IpvsDiff.between(t("-A -t 198.19.0.1:80 -s rr"), current, v -> true,
                java.util.Set.of("tcp:198.19.0.1:80>198.18.0.2:8080", "tcp:198.19.0.1:80>198.18.0.3:8080"));
        assertEquals(List.of("-d -t 198.19.0.1:80 -r 198.18.0.2:8080", "-d -t 198.19.0.1:80 -r 198.18.0.3:8080",
                "-e -t 198.19.0.1:80 -r 198.18.0.4:8080 -m -w 0"), p.lines());
        assertEquals(List.of("198.18.0.4"), p.result().realServers().stream().map(RealServer::address).toList(), "the other one drains");
    }

    @Test
    void removedServiceDeletedButForeignUntouched() {
        var p = IpvsDiff.between(t(""), t("-A -t 198.19.0.1:80 -s rr\n-A -t 10.0.0.1:80 -s rr"),
                v -> v.address().startsWith("198.19."));
        assertEquals(List.of("-D -t 198.19.0.1:80"), p.lines());
    }

    @Test
    void ownedMeansOnKubeIpvs0OrANodeAddressAndOutsideExcludeCidrs() {
        var owned = IpvsDiff.owned(java.util.Set.of("198.19.0.1"), List.of("198.18.1.1", "198.18.9.9"),
                List.of("198.18.9.0/24", "fd00::/64"));
        var parse = t("-A -t 198.19.0.1:80 -s rr\n-A -t 198.18.1.1:30080 -s rr\n-A -t 198.18.9.9:30080 -s rr\n-A -t 10.0.0.1:80 -s rr");
        assertEquals(List.of(true, true, false, false), parse.virtualServers().stream().map(owned::test).toList());
    }
}
