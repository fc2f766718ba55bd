package io.kubeferry.it.peer;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.kubeferry.it.Traffic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The peer bed itself: each agent, on each iptables flavour, as a process in the node namespace talking to the API server on that
 * namespace's loopback, syncs, answers healthz, moves real traffic through a ClusterIP, reports its memory and
 * CPU, and after its own cleanup (plus the bed's scrub) leaves nothing behind.
 */
class PeerBedTest {

    @RegisterExtension
    static final PeerBed BED = new PeerBed();

    @BeforeAll
    static void objects() throws Exception {
        BED.netns().addPod("pb-a", 21);
        BED.client().services().inNamespace("default").resource(new ServiceBuilder().withNewMetadata().withName("pb").endMetadata()
                .withNewSpec().withClusterIP("198.19.7.1").addNewPort().withName("http").withPort(80).withNewTargetPort(8080).endPort()
                .endSpec().build()).create();
        BED.client().discovery().v1().endpointSlices().inNamespace("default").resource(new EndpointSliceBuilder()
                .withNewMetadata().withName("pb-1").addToLabels("kubernetes.io/service-name", "pb").endMetadata()
                .withAddressType("IPv4").addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort()
                .addNewEndpoint().withAddresses("198.18.0.21").withNodeName(PeerBed.NODE)
                .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions().endEndpoint()
                .build()).create();
    }

    static Stream<Arguments> agentsAndFlavours() {
        return Stream.of(AgentProcess.Kind.values())
                .flatMap(kind -> Stream.of(AgentConfig.Backend.values()).map(backend -> Arguments.of(kind, backend)));
    }

    @ParameterizedTest
    @MethodSource("agentsAndFlavours")
    void agentSyncsServesTrafficAndLeavesNothingBehind(AgentProcess.Kind kind, AgentConfig.Backend backend) throws Exception {
        BED.assumeAvailable(kind);
        AgentConfig config = BED.config(backend);
        Duration synced;
        try (AgentProcess agent = BED.start(kind, config)) {
            synced = agent.awaitSynced(Duration.ofSeconds(60));
            assertEquals(200, agent.healthz(), agent.tail());
            String answer = Traffic.awaitAnswer(kind.label() + " ClusterIP", () -> BED.netns().client().tcp("198.19.7.1", 80),
                    "pb-a"::equals);
            assertEquals("pb-a", answer);
            assertTrue(BED.iptablesSave(backend).contains("-j KUBE-SVC-"), "rules are in the " + backend.variant() + " flavour");
            AgentConfig.Backend other = backend == AgentConfig.Backend.NFT ? AgentConfig.Backend.LEGACY : AgentConfig.Backend.NFT;
            assertFalse(BED.iptablesSave(other).contains("KUBE-SVC-"), "and not in the " + other.variant() + " flavour");
            assertTrue(agent.rssKib() > 1000, "RSS " + agent.rssKib() + " KiB");
            assertTrue(agent.cpuSeconds() > 0, "CPU " + agent.cpuSeconds() + " s");
            System.out.printf("PeerBed %s, iptables-%s: synced %d ms after start, RSS %d KiB, CPU %.2f s%n", kind.label(),
                    backend.variant(), synced.toMillis(),
                    agent.rssKib(), agent.cpuSeconds());
        }
        PeerBed.Reset reset = BED.reset(kind, config);
        System.out.println("PeerBed " + kind.label() + ": its own cleanup left " + (reset.leftAfterCleanup().isEmpty()
                ? "nothing"
                : reset.leftAfterCleanup().size() + " item(s):\n  " + String.join("\n  ", reset.leftAfterCleanup())));
        String after = BED.netns().client().tcp("198.19.7.1", 80);
        assertTrue(after.equals("TIMEOUT") || after.startsWith("ERROR"), "no agent, no rules, no answer: " + after);
    }
}
