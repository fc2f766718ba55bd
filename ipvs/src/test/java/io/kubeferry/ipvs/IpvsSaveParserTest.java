package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.Protocol;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class IpvsSaveParserTest {

    @Test
    void parsesVirtualAndRealServers() {
        var t = IpvsSaveParser.parse("""
                -A -t 198.19.0.1:80 -s rr
                -a -t 198.19.0.1:80 -r 198.18.0.2:8080 -m -w 1
                -A -u 198.19.0.10:53 -s sh -b sh-port -p 10800
                -a -u 198.19.0.10:53 -r 198.18.0.3:53 -m -w 0
                """);
        assertEquals(2, t.virtualServers().size());
        assertEquals(new VirtualServer(Protocol.TCP, "198.19.0.1", 80, "rr", Set.of(), 0), t.virtualServers().get(0));
        assertEquals(new VirtualServer(Protocol.UDP, "198.19.0.10", 53, "sh", Set.of("sh-port"), 10800), t.virtualServers().get(1));
        assertEquals(new RealServer("udp:198.19.0.10:53", "198.18.0.3", 53, 0), t.realServers().get(1));
    }

    /**
     * ipvsadm prints IPv6 addresses in brackets; both families' virtual servers are in the one table, and each
     * family's instance keeps only its own (with their real servers).
     */
    @Test
    void parsesIpv6LinesAndSplitsTheTableByFamily() {
        var t = IpvsSaveParser.parse("""
                -A -t 198.19.0.1:80 -s rr
                -a -t 198.19.0.1:80 -r 198.18.0.2:8080 -m -w 1
                -A -t [2001:db8:1::10]:80 -s rr
                -a -t [2001:db8:1::10]:80 -r [2001:db8::2]:8080 -m -w 1
                -A --sctp-service [2001:db8:1::20]:3868 -s sh -b sh-fallback
                -a --sctp-service [2001:db8:1::20]:3868 -r [2001:db8::6]:3868 -m -w 0
                """);
        var six = t.of(io.kubeferry.proxy.model.IpFamily.IPv6);
        assertEquals(java.util.List.of(new VirtualServer(Protocol.TCP, "2001:db8:1::10", 80, "rr", Set.of(), 0),
                new VirtualServer(Protocol.SCTP, "2001:db8:1::20", 3868, "sh", Set.of("sh-fallback"), 0)), six.virtualServers());
        assertEquals(java.util.List.of(new RealServer("tcp:2001:db8:1::10:80", "2001:db8::2", 8080, 1),
                new RealServer("sctp:2001:db8:1::20:3868", "2001:db8::6", 3868, 0)), six.realServers());
        var four = t.of(io.kubeferry.proxy.model.IpFamily.IPv4);
        assertEquals(java.util.List.of("198.19.0.1"), four.virtualServers().stream().map(VirtualServer::address).toList());
        assertEquals(java.util.List.of("198.18.0.2"), four.realServers().stream().map(RealServer::address).toList());
        assertEquals("-a -t [2001:db8:1::10]:80 -r [2001:db8::2]:8080 -m -w 1",
                "-a " + IpvsDiff.service(six.virtualServers().get(0)) + IpvsDiff.real(six.realServers().get(0)));
    }

    /** ipvsadm -Lnc's IPv6 connections count for the IPv6 real server they are on (graceful termination). */
    @Test
    void countsIpv6Connections() {
        var live = IpvsConnections.live("""
                IPVS connection entries
                pro expire state       source             virtual            destination
                TCP 14:59  ESTABLISHED [2001:db8:3::9]:40000 [2001:db8:1::10]:80 [2001:db8::2]:8080
                TCP 01:59  TIME_WAIT   [2001:db8:3::9]:40001 [2001:db8:1::10]:80 [2001:db8::2]:8080
                """);
        assertEquals(java.util.Map.of("tcp:2001:db8:1::10:80>2001:db8::2:8080", 1), live);
        assertEquals(new RealServer("tcp:2001:db8:1::10:80", "2001:db8::2", 8080, 1).key(), live.keySet().iterator().next());
    }
}
