package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.testing.AnsweredTools;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
        kernel.addConntrack(flow("udp", "198.18.1.2", 40000, "198.19.0.53", 53, "198.18.0.7", 53)); // gone endpoint: stale
        kernel.addConntrack(flow("udp", "198.18.1.3", 40007, "198.19.0.53", 53, "198.18.0.7", 53)); // another client of it
        kernel.addConntrack(flow("udp", "198.18.1.2", 40001, "198.19.0.53", 53, "198.18.0.5", 53)); // live endpoint
        kernel.addConntrack(flow("udp", "198.18.1.2", 40002, "198.19.0.53", 53, "198.19.0.53", 53)); // cached while empty: stale
        kernel.addConntrack(flow("udp", "198.18.1.2", 40003, "198.18.1.1", 30053, "198.18.0.7", 53)); // NodePort to gone: stale
        kernel.addConntrack(flow("udp", "198.18.1.2", 40004, "198.19.100.53", 53, "198.18.0.7", 53)); // externalIP to gone: stale
        kernel.addConntrack(flow("udp", "198.18.1.2", 40005, "198.18.0.99", 9999, "198.18.0.99", 9999)); // not a Service
        kernel.addConntrack(flow("tcp", "198.18.1.2", 40006, "198.19.0.80", 80, "198.18.0.1", 80)); // TCP: not ours

        hook.afterSync(firstSync(current));

        List<String> left = kernel.conntrackEntries();
        assertEquals(3, left.size(), String.join("\n", left));
        assertTrue(left.stream().anyMatch(e -> e.contains("sport=40001")));
        assertTrue(left.stream().anyMatch(e -> e.contains("sport=40005")));
        assertTrue(left.stream().anyMatch(e -> e.startsWith("tcp")));
        assertEquals(5.0, deletedCount());
        // One deletion per Service address, port and gone reply source, however many clients' flows it covers.
        assertEquals(List.of(
                delete("198.19.0.53", 53, "198.18.0.7"),
                delete("198.19.0.53", 53, "198.19.0.53"),
                delete("198.18.1.1", 30053, "198.18.0.7"),
                delete("198.19.100.53", 53, "198.18.0.7")),
                kernel.commands("conntrack").stream().filter(c -> c.args().contains("-D")).map(ToolCommand::args).toList());
    }

    private static List<String> delete(String origDst, int dport, String replySrc) {
        return List.of("-D", "-p", "udp", "--orig-dst", origDst, "--dport", String.valueOf(dport), "--reply-src", replySrc);
    }

    private double deletedCount() {
        return metrics.get("kubeproxy.conntrack.reconciler.deleted.entries").counter().count();
    }

    private static ConntrackChange firstSync(ProxyState current) {
        return new ConntrackChange(ProxyState.empty(current.node()), current, Set.of(), true);
    }

    private ToolRunner answering(AnsweredTools.Answer answer) {
        return AnsweredTools.of(kernel, answer);
    }

    private static ProxyState dnsWithOneEndpoint() {
        return state(port("kube-system", "dns", "dns", Protocol.UDP, "198.19.0.53", 53).resolve(endpoint("198.18.0.5", 53)));
    }

    @Test
    void countsWhatConntrackSaysItDeleted() throws Exception {
        // A client's flow to the gone endpoint lands after the listing: the one deletion takes it too, and counts it.
        kernel.addConntrack(flow("udp", "198.18.1.2", 40000, "198.19.0.53", 53, "198.18.0.7", 53));
        ToolRunner racing = answering(command -> {
            ToolResult result = kernel.runAllowingFailure(command);
            if (command.args().contains("-L")) {
                kernel.addConntrack(flow("udp", "198.18.1.9", 40100, "198.19.0.53", 53, "198.18.0.7", 53));
            }
            return result;
        });
        new StaleUdpConntrack(racing, metrics).afterSync(firstSync(dnsWithOneEndpoint()));
        assertEquals(List.of(), kernel.conntrackEntries());
        assertEquals(2.0, deletedCount());
    }

    @Test
    void aFailedDeletionIsReportedAfterTheOthersRan() throws Exception {
        kernel.addConntrack(flow("udp", "198.18.1.2", 40000, "198.19.0.53", 53, "198.18.0.7", 53));
        kernel.addConntrack(flow("udp", "198.18.1.2", 40001, "198.19.0.53", 53, "198.18.0.8", 53));
        kernel.addConntrack(flow("udp", "198.18.1.2", 40002, "198.19.0.53", 53, "198.18.0.9", 53));
        ToolRunner failing = answering(command -> {
            if (command.args().contains("198.18.0.8")) {
                return new ToolResult(1, "", "conntrack v1.4.7 (conntrack-tools): Operation not permitted\n");
            }
            if (command.args().contains("198.18.0.9")) {
                // Expired between the listing and the deletion: not a failure.
                kernel.runAllowingFailure(command);
                return new ToolResult(1, "", "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n");
            }
            return kernel.runAllowingFailure(command);
        });
        ToolException e = assertThrows(ToolException.class,
                () -> new StaleUdpConntrack(failing, metrics).afterSync(firstSync(dnsWithOneEndpoint())));
        assertEquals("1 of 3 stale UDP deletions failed: conntrack -D -p udp --orig-dst 198.19.0.53 --dport 53 --reply-src 198.18.0.8"
                + " exited 1: conntrack v1.4.7 (conntrack-tools): Operation not permitted", e.getMessage());
        assertEquals(1.0, deletedCount(), "the .7 flow went; the failed and the expired ones count nothing");
        assertEquals(1, kernel.conntrackEntries().size());
    }

    @Test
    void noUdpServicesMeansNoConntrackCalls() throws Exception {
        ProxyState current = state(port("ns", "web", "", Protocol.TCP, "198.19.0.80", 80).resolve(endpoint("198.18.0.9", 80)));
        hook.afterSync(firstSync(current));
        assertEquals(0, kernel.commands("conntrack").size());
    }
}
