package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
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

class RemovedEndpointTcpFlowsTest {

    private static final Endpoint A = endpoint("198.18.0.11", 8080);
    private static final Endpoint B = endpoint("198.18.0.12", 8080);

    private final FakeNetfilter kernel = new FakeNetfilter();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

    private static String flow(String client, int sport, String dst, int dport, String replySrc, int replySport) {
        return "tcp      6 431999 ESTABLISHED src=" + client + " dst=" + dst + " sport=" + sport + " dport=" + dport + " src=" + replySrc
                + " dst=" + client + " sport=" + replySport + " dport=" + sport + " [ASSURED] mark=0 use=1";
    }

    private static ResolvedService web(boolean optIn, Endpoint... eps) {
        var b = port("ns", "web", "", Protocol.TCP, "198.19.0.10", 80).nodePort(30080);
        if (optIn) {
            b.option(RemovedEndpointTcpFlows.ANNOTATION, "true");
        }
        return b.resolve(eps);
    }

    private void sync(RemovedEndpointTcpFlows hook, ProxyState before, ProxyState after) throws Exception {
        hook.afterSync(new ConntrackChange(before, after, Set.of(), false));
    }

    private List<List<String>> deletions() {
        return kernel.commands("conntrack").stream().filter(c -> c.args().contains("-D")).map(ToolCommand::args).toList();
    }

    /** A thousand clients' flows to the removed endpoint go in one process; the other endpoint's and direct flows stay. */
    @Test
    void oneDeletionPerRemovedEndpointWhateverTheNumberOfFlows() throws Exception {
        for (int i = 0; i < 1000; i++) {
            kernel.addConntrack(flow("198.18.1." + (2 + i % 200), 20000 + i, "198.19.0.10", 80, B.ip(), 8080));
        }
        kernel.addConntrack(flow("198.18.1.2", 41000, "198.18.1.1", 30080, B.ip(), 8080)); // through the NodePort
        kernel.addConntrack(flow("198.18.1.2", 41001, "198.19.0.10", 80, A.ip(), 8080)); // to the endpoint that stays
        kernel.addConntrack(flow("198.18.1.2", 41002, B.ip(), 8080, B.ip(), 8080)); // pod to pod, not NATed
        RemovedEndpointTcpFlows hook = new RemovedEndpointTcpFlows(kernel, false, metrics);

        sync(hook, state(web(true, A, B)), state(web(true, A)));

        assertEquals(List.of(List.of("-D", "-p", "tcp", "--dst-nat", "--reply-src", B.ip(), "--reply-port-src", "8080")), deletions());
        assertEquals(1001.0, metrics.get("kubeferry.conntrack.tcp.deleted.entries").counter().count());
        List<String> left = kernel.conntrackEntries();
        assertEquals(2, left.size(), String.join("\n", left));
        assertTrue(left.stream().anyMatch(e -> e.contains("sport=41001")));
        assertTrue(left.stream().anyMatch(e -> e.contains("sport=41002")));
    }

    @Test
    void withoutTheAnnotationOrConfigNothingIsCut() throws Exception {
        kernel.addConntrack(flow("198.18.1.2", 40000, "198.19.0.10", 80, B.ip(), 8080));
        sync(new RemovedEndpointTcpFlows(kernel, false, metrics), state(web(false, A, B)), state(web(false, A)));
        assertEquals(List.of(), kernel.commands("conntrack"));
        assertEquals(1, kernel.conntrackEntries().size());
    }

    @Test
    void theConfigCutsForEveryServiceAndTheAnnotationFalseOptsOut() throws Exception {
        kernel.addConntrack(flow("198.18.1.2", 40000, "198.19.0.10", 80, B.ip(), 8080));
        RemovedEndpointTcpFlows hook = new RemovedEndpointTcpFlows(kernel, true, metrics);
        ResolvedService optedOut = port("ns", "web", "", Protocol.TCP, "198.19.0.10", 80)
                .option(RemovedEndpointTcpFlows.ANNOTATION, "false").resolve(A);
        ResolvedService optedOutBefore = port("ns", "web", "", Protocol.TCP, "198.19.0.10", 80)
                .option(RemovedEndpointTcpFlows.ANNOTATION, "false").resolve(A, B);
        sync(hook, state(optedOutBefore), state(optedOut));
        assertEquals(1, kernel.conntrackEntries().size(), "opted out");
        sync(hook, state(web(false, A, B)), state(web(false, A)));
        assertEquals(0, kernel.conntrackEntries().size(), "cut by the node default");
    }

    @Test
    void aTerminatingEndpointKeepsItsFlowsEvenWhenItFinallyGoes() throws Exception {
        kernel.addConntrack(flow("198.18.1.2", 40000, "198.19.0.10", 80, B.ip(), 8080));
        RemovedEndpointTcpFlows hook = new RemovedEndpointTcpFlows(kernel, true, metrics);
        Endpoint draining = ConntrackChangesTest.terminating(B);
        sync(hook, state(web(true, A, B)), state(web(true, A, draining)));
        sync(hook, state(web(true, A, draining)), state(web(true, A)));
        assertEquals(List.of(), kernel.commands("conntrack"));
        assertEquals(1, kernel.conntrackEntries().size());
    }

    @Test
    void anEndpointAnotherServiceStillUsesIsCutOnlyOnTheRemovedServicesAddresses() throws Exception {
        ResolvedService other = port("ns", "other", "", Protocol.TCP, "198.19.0.20", 80).resolve(B);
        kernel.addConntrack(flow("198.18.1.2", 40000, "198.19.0.10", 80, B.ip(), 8080)); // via web: cut
        kernel.addConntrack(flow("198.18.1.2", 40001, "198.18.1.1", 30080, B.ip(), 8080)); // via web's NodePort: cut
        kernel.addConntrack(flow("198.18.1.2", 40002, "198.19.0.20", 80, B.ip(), 8080)); // via other: stays
        RemovedEndpointTcpFlows hook = new RemovedEndpointTcpFlows(kernel, false, metrics);

        sync(hook, state(web(true, A, B), other), state(web(true, A), other));

        assertEquals(List.of(
                List.of("-D", "-p", "tcp", "--orig-dst", "198.19.0.10", "--orig-port-dst", "80", "--reply-src", B.ip(), "--reply-port-src",
                        "8080"),
                List.of("-D", "-p", "tcp", "--dst-nat", "--orig-port-dst", "30080", "--reply-src", B.ip(), "--reply-port-src", "8080")),
                deletions());
        assertEquals(List.of(flow("198.18.1.2", 40002, "198.19.0.20", 80, B.ip(), 8080)), kernel.conntrackEntries());
    }

    @Test
    void aRemovedServiceTakesItsEndpointsFlowsAlong() throws Exception {
        kernel.addConntrack(flow("198.18.1.2", 40000, "198.19.0.10", 80, A.ip(), 8080));
        sync(new RemovedEndpointTcpFlows(kernel, false, metrics), state(web(true, A)), state());
        assertEquals(0, kernel.conntrackEntries().size());
    }

    @Test
    void nothingMatchingIsNoFailure() throws Exception {
        sync(new RemovedEndpointTcpFlows(kernel, false, metrics), state(web(true, A, B)), state(web(true, A)));
        assertEquals(1, deletions().size());
        assertEquals(0.0, metrics.get("kubeferry.conntrack.tcp.deleted.entries").counter().count());
    }

    /** The fake kernel, but every conntrack call fails while {@code down[0]}. */
    private ToolRunner flaky(boolean[] down) {
        return AnsweredTools.of(kernel, command -> {
            if (down[0]) {
                throw new ToolException("conntrack: netlink busy", null);
            }
            return kernel.runAllowingFailure(command);
        });
    }

    /** A deletion that failed is tried again with the next change, which no longer names the endpoint. */
    @Test
    void aFailedCutIsRetriedWithTheNextChange() throws Exception {
        kernel.addConntrack(flow("198.18.1.2", 40000, "198.19.0.10", 80, B.ip(), 8080));
        boolean[] down = {true};
        ToolRunner flaky = flaky(down);
        RemovedEndpointTcpFlows hook = new RemovedEndpointTcpFlows(flaky, false, metrics);
        assertThrows(ToolException.class, () -> sync(hook, state(web(true, A, B)), state(web(true, A))));
        assertEquals(1, kernel.conntrackEntries().size(), "nothing cut yet");

        down[0] = false;
        sync(hook, state(web(true, A)), state(web(true, A)));
        assertEquals(List.of(), kernel.conntrackEntries(), "cut by the next change");
        sync(hook, state(web(true, A)), state(web(true, A)));
        assertEquals(1, deletions().size(), "and only once");
    }

    /** An endpoint back in its Service before the retry keeps its (new) flows. */
    @Test
    void aFailedCutOfAnEndpointThatCameBackIsDropped() throws Exception {
        boolean[] down = {true};
        ToolRunner flaky = flaky(down);
        RemovedEndpointTcpFlows hook = new RemovedEndpointTcpFlows(flaky, false, metrics);
        assertThrows(ToolException.class, () -> sync(hook, state(web(true, A, B)), state(web(true, A))));
        down[0] = false;
        kernel.addConntrack(flow("198.18.1.2", 40001, "198.19.0.10", 80, B.ip(), 8080));
        sync(hook, state(web(true, A)), state(web(true, A, B)));
        assertEquals(List.of(), deletions(), "B is listed again: nothing to cut");
        assertEquals(1, kernel.conntrackEntries().size());
    }
}
