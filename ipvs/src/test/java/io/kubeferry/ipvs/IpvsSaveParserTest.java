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
}
