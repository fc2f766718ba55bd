package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StaleUdpConntrackTest {

    private final FakeNetfilter kernel = new FakeNetfilter();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final StaleUdpConntrack hook = new StaleUdpConntrack(kernel, metrics);

    private static String flow(String proto, String client, int sport, String dst, int dport, String replySrc, int replySport) {
        return proto + "      17 29 src=" + client + " dst=" + dst + " sport=" + sport + " dport=" + dport
                + " src=" + replySrc + " dst=" + client + " sport=" + replySport + " dport=" + sport + " mark=0 use=1";
    }

    @Test
    void deletesExactlyTheFlowsToGoneEndpoints() throws Exception {
        ProxyState current = state(
                port("kube-system", "dns", "dns", Protocol.UDP, "198.19.0.53", 53).nodePort(30053).externalIP("198.19.100.53")
                        .resolve(endpoint("198.18.0.5", 53)),
                port("ns", "web", "", Protocol.TCP, "198.19.0.80", 80).resolve(endpoint("198.18.0.9", 80)));
        kernel.addConntrack(flow("udp", "198.18.1.2", 40000, "198.19.0.53", 53, "198.18.0.7", 53));     // gone endpoint: stale
        kernel.addConntrack(flow("udp", "198.18.1.2", 40001, "198.19.0.53", 53, "198.18.0.5", 53));     // live endpoint
        kernel.addConntrack(flow("udp", "198.18.1.2", 40002, "198.19.0.53", 53, "198.19.0.53", 53));    // cached while empty: stale
        kernel.addConntrack(flow("udp", "198.18.1.2", 40003, "198.18.1.1", 30053, "198.18.0.7", 53));   // NodePort to gone: stale
        kernel.addConntrack(flow("udp", "198.18.1.2", 40004, "198.19.100.53", 53, "198.18.0.7", 53));   // externalIP to gone: stale
        kernel.addConntrack(flow("udp", "198.18.1.2", 40005, "198.18.0.99", 9999, "198.18.0.99", 9999)); // not a Service
        kernel.addConntrack(flow("tcp", "198.18.1.2", 40006, "198.19.0.80", 80, "198.18.0.1", 80));     // TCP: not ours

        hook.afterSync(new ConntrackChange(ProxyState.empty(current.node()), current, Set.of(), true));

        List<String> left = kernel.conntrackEntries();
        assertEquals(3, left.size(), String.join("\n", left));
        assertTrue(left.stream().anyMatch(e -> e.contains("sport=40001")));
        assertTrue(left.stream().anyMatch(e -> e.contains("sport=40005")));
        assertTrue(left.stream().anyMatch(e -> e.startsWith("tcp")));
        assertEquals(4.0, metrics.get("kubeproxy.conntrack.reconciler.deleted.entries").counter().count());
        ToolCommand delete = kernel.commands("conntrack").stream().filter(c -> c.args().contains("-D")).findFirst().orElseThrow();
        assertEquals(List.of("-D", "-p", "udp", "--orig-src", "198.18.1.2", "--orig-dst", "198.19.0.53", "--sport", "40000", "--dport", "53"),
                delete.args(), "exact tuples only");
    }

    @Test
    void noUdpServicesMeansNoConntrackCalls() throws Exception {
        ProxyState current = state(port("ns", "web", "", Protocol.TCP, "198.19.0.80", 80).resolve(endpoint("198.18.0.9", 80)));
        hook.afterSync(new ConntrackChange(ProxyState.empty(current.node()), current, Set.of(), true));
        assertEquals(0, kernel.commands("conntrack").size());
    }
}
