package io.kubeferry.proxy.testing.trace;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.testing.FakeNetfilter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.trace.Outcome.dnat;
import static io.kubeferry.proxy.testing.trace.Packet.Origin.NODE;
import static io.kubeferry.proxy.testing.trace.Packet.Origin.OUTSIDE;
import static io.kubeferry.proxy.testing.trace.Packet.tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tracer on hand-written rules: the semantics the dataplanes' own rules do not all exercise. */
class NetfilterTracerTest {

    private static NetfilterTracer tracer(String restore, NetfilterTracer.VirtualServers ipvs) throws Exception {
        FakeNetfilter kernel = new FakeNetfilter();
        kernel.run(ToolCommand.of("iptables-restore", "--noflush").withStdin(restore));
        return new NetfilterTracer("test", kernel, Set.of("198.18.1.1"), NetfilterTracer.Ipsets.NONE, ipvs);
    }

    @Test
    void gotoReturnsToTheCallerOfTheChainThatWent() throws Exception {
        NetfilterTracer t = tracer("""
                *nat
                :A - [0:0]
                :B - [0:0]
                -A PREROUTING -j A
                -A PREROUTING -d 198.19.0.1 -j DNAT --to-destination 198.18.0.9:80
                -A A -g B
                -A A -j DNAT --to-destination 198.18.0.8:80
                -A B -j RETURN
                COMMIT
                """, NetfilterTracer.VirtualServers.NONE);
        // B's RETURN leaves A too (it was a goto), so A's DNAT is skipped and PREROUTING's own applies.
        assertEquals(dnat(false, "198.18.0.9:80"), t.trace(tcp(OUTSIDE, "198.18.2.50", "198.19.0.1", 80)).outcome());
    }

    @Test
    void negationsMarksAndProbabilitiesEachPathItsOwnWay() throws Exception {
        NetfilterTracer t = tracer("""
                *nat
                :MASQ - [0:0]
                :POST - [0:0]
                -A PREROUTING ! -s 198.18.0.0/24 -j MASQ
                -A PREROUTING -m statistic --mode random --probability 0.5 -j DNAT --to-destination 198.18.0.2:80
                -A PREROUTING -j DNAT --to-destination 198.18.0.3:80
                -A MASQ -j MARK --or-mark 0x4000
                -A POSTROUTING -j POST
                -A POST -m mark ! --mark 0x4000/0x4000 -j RETURN
                -A POST -j MASQUERADE
                COMMIT
                """, NetfilterTracer.VirtualServers.NONE);
        assertEquals(dnat(true, "198.18.0.2:80", "198.18.0.3:80"), t.trace(tcp(OUTSIDE, "198.18.2.50", "198.19.0.1", 80)).outcome());
        assertEquals(dnat(false, "198.18.0.2:80", "198.18.0.3:80"), t.trace(tcp(OUTSIDE, "198.18.0.7", "198.19.0.1", 80)).outcome());
    }

    @Test
    void filterSeesTheRewrittenDestinationAndTheNodesOwnTrafficGoesThroughOutput() throws Exception {
        NetfilterTracer t = tracer("""
                *nat
                -A OUTPUT -d 198.19.0.1 -j DNAT --to-destination 198.18.0.2:80
                COMMIT
                *filter
                -A OUTPUT -d 198.19.0.1 -j REJECT
                -A OUTPUT -d 198.18.0.3 -j DROP
                -A INPUT -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 22 -j ACCEPT
                COMMIT
                """, NetfilterTracer.VirtualServers.NONE);
        assertEquals(dnat(false, "198.18.0.2:80"), t.trace(tcp(NODE, "198.18.1.1", "198.19.0.1", 80)).outcome());
        assertEquals(Outcome.drop(), t.trace(tcp(NODE, "198.18.1.1", "198.18.0.3", 80)).outcome());
        assertEquals(Outcome.accept(), t.trace(tcp(OUTSIDE, "198.18.2.50", "198.18.1.1", 22)).outcome());
        assertEquals(Outcome.untouched(), t.trace(tcp(OUTSIDE, "198.18.2.50", "198.18.1.1", 23)).outcome());
    }

    @Test
    void ipvsSendsLocalTrafficToItsRealServersAndRefusesWithoutAny() throws Exception {
        NetfilterTracer t = tracer("*nat\nCOMMIT\n", (protocol, address, port) -> switch (address + ":" + port) {
            case "198.18.1.1:30080" -> new NetfilterTracer.VirtualServers.Virtual(List.of("198.18.0.2:80"), 60);
            case "198.18.1.1:30081" -> new NetfilterTracer.VirtualServers.Virtual(List.of(), 0);
            default -> null;
        });
        assertEquals(dnat(false, "198.18.0.2:80").sticky(60), t.trace(tcp(OUTSIDE, "198.18.2.50", "198.18.1.1", 30080)).outcome());
        assertEquals(Outcome.reject(), t.trace(tcp(OUTSIDE, "198.18.2.50", "198.18.1.1", 30081)).outcome());
        assertEquals(Outcome.untouched(), t.trace(tcp(OUTSIDE, "198.18.2.50", "198.18.9.9", 30080)).outcome(),
                "IPVS sees only packets for the node's own addresses");
    }

    /**
     * {@code -m ipvs} matches a packet IPVS took for that virtual service: not in filter INPUT (IPVS's LOCAL_IN hook
     * comes after it), but in filter OUTPUT for the node's own (LOCAL_OUT comes before it). A node packet to one of
     * the node's addresses leaves from that address, whatever source the case names (an unbound socket's choice).
     * The OUTPUT rule is spelt as iptables-save prints IPVS mode's on a real kernel (numeric --vproto, reordered).
     */
    @Test
    void theIpvsMatchSeesTheVirtualServiceOnceIpvsTookThePacket() throws Exception {
        NetfilterTracer t = tracer("""
                *filter
                -A INPUT -m ipvs --vaddr 198.18.1.1 --vproto tcp --vport 30080 -j DROP
                -A OUTPUT -s 198.18.1.1/32 -m ipvs --vproto 6 --vaddr 198.18.1.1 --vport 30080 -j DROP
                COMMIT
                """, (protocol, address, port) -> address.equals("198.18.1.1") && port == 30080
                ? new NetfilterTracer.VirtualServers.Virtual(List.of("198.18.0.2:80"), 0)
                : null);
        assertEquals(dnat(false, "198.18.0.2:80"), t.trace(tcp(OUTSIDE, "198.18.2.50", "198.18.1.1", 30080)).outcome(),
                "from outside, filter INPUT runs before IPVS: no IPVS connection to match yet");
        assertEquals(Outcome.drop(), t.trace(tcp(NODE, "198.18.9.9", "198.18.1.1", 30080)).outcome(),
                "the node's own: IPVS at LOCAL_OUT, then filter OUTPUT, from the address it connects to");
        assertEquals(Outcome.untouched(), t.trace(tcp(NODE, "198.18.1.1", "198.18.1.1", 30081)).outcome(),
                "no virtual server for the port: the match does not apply");
    }

    @Test
    void anIpvsMatchWithAnOptionXtIpvsLacksIsRefused() throws Exception {
        FakeNetfilter kernel = new FakeNetfilter();
        var r = kernel.runAllowingFailure(ToolCommand.of("iptables-restore", "--noflush")
                .withStdin("*filter\n-A OUTPUT -m ipvs --vaddr 198.19.200.1 --vprot tcp -j DROP\nCOMMIT\n"));
        assertEquals(2, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("unknown option \"--vprot\""), r.stderr());
        assertTrue(kernel.rules("filter", "OUTPUT").isEmpty(), "a failed restore changes nothing");
    }

    @Test
    void aMatchTheTracerDoesNotKnowFailsTheTrace() throws Exception {
        NetfilterTracer t = tracer("*filter\n-A FORWARD -i eth0 -j DROP\nCOMMIT\n", NetfilterTracer.VirtualServers.NONE);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.trace(tcp(OUTSIDE, "198.18.2.50", "198.18.0.2", 80)));
        assertTrue(e.getMessage().contains("-i not understood"), e.getMessage());
    }
}
