package io.kubeferry.ipvs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kubeferry.proxy.model.Protocol;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GracefulTerminationTest {
    private final VirtualServer tcp = new VirtualServer(Protocol.TCP, "198.19.0.1", 80, "rr", Set.of(), 0);
    private final VirtualServer udp = new VirtualServer(Protocol.UDP, "198.19.0.10", 53, "rr", Set.of(), 0);
    private final RealServer tcpRs = new RealServer(tcp.key(), "198.18.0.2", 8080, 0);
    private final RealServer udpRs = new RealServer(udp.key(), "198.18.0.3", 53, 0);
    private final Map<String, VirtualServer> services = Map.of(tcp.key(), tcp, udp.key(), udp);

    @Test
    void tcpWaitsForConnectionsToDrain() {
        assertEquals(List.of(), GracefulTermination.check(List.of(tcpRs), services, Set.of(), Map.of(tcpRs.key(), 3)));
        assertEquals(List.of("-d -t 198.19.0.1:80 -r 198.18.0.2:8080"),
                GracefulTermination.check(List.of(tcpRs), services, Set.of(), Map.of(tcpRs.key(), 0)));
    }

    @Test
    void udpDeletedAtOnce() {
        assertEquals(List.of("-d -u 198.19.0.10:53 -r 198.18.0.3:53"),
                GracefulTermination.check(List.of(udpRs), services, Set.of(), Map.of(udpRs.key(), 5)));
    }

    @Test
    void afterRestartDesiredWeightZeroServerGetsWeightBack() {
        assertEquals(List.of("-e -t 198.19.0.1:80 -r 198.18.0.2:8080 -m -w 1"),
                GracefulTermination.check(List.of(tcpRs), services, Set.of(tcpRs.key()), Map.of(tcpRs.key(), 2)));
    }
}
