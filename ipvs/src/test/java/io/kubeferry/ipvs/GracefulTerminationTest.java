package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.Protocol;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

    @Test
    void aSweepDeletesTheDrainedAndLeavesTheKernelWithoutThem() {
        RealServer live = new RealServer(tcp.key(), "198.18.0.4", 8080, 1);
        RealServer busy = new RealServer(tcp.key(), "198.18.0.5", 8080, 0);
        IpvsKernelState state = new IpvsKernelState(new IpvsSaveParser.Table(List.of(tcp, udp), List.of(live, tcpRs, busy, udpRs)),
                Set.of(live.key()), new java.util.TreeSet<>(), Map.of(), new java.util.TreeSet<>());
        assertEquals(true, GracefulTermination.anyDraining(state));
        GracefulTermination.Sweep sweep = GracefulTermination.sweep(state, Map.of(busy.key(), 1));
        assertEquals(List.of(tcpRs, udpRs), sweep.drained());
        assertEquals("-d -t 198.19.0.1:80 -r 198.18.0.2:8080\n-d -u 198.19.0.10:53 -r 198.18.0.3:53\n", sweep.restoreText());
        assertEquals(List.of(live, busy), sweep.after().table().realServers());
        assertEquals(state.table().virtualServers(), sweep.after().table().virtualServers());
        assertEquals("", GracefulTermination.sweep(sweep.after(), Map.of(busy.key(), 1)).restoreText(), "a busy one waits");
    }
}
