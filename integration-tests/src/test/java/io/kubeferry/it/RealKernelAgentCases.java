package io.kubeferry.it;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.cli.Main;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.kubeferry.it.ClusterObjects.nodePort;
import static io.kubeferry.it.ClusterObjects.service;
import static io.kubeferry.it.ClusterObjects.slice;
import static io.kubeferry.it.Traffic.answers;
import static io.kubeferry.it.Traffic.awaitAnswer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent (iptables mode) programs a real kernel: it runs in this JVM against a Fabric8 CRUD mock API and
 * programs the bed's node namespace; a client namespace sends real TCP and UDP through the rules to echo
 * servers in pod namespaces.
 */
@EnableKubernetesMockClient(crud = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentRealKernelTest {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    static KubernetesClient client;
    static KubernetesMockServer server;

    private static Vertx vertx;
    private static Agent agent;
    private static NetnsTestBed.Pod pod1;
    private static NetnsTestBed.Pod pod2;

    @BeforeAll
    static void startAgent() throws Exception {
        pod1 = BED.addPod("pod-1", 11);
        pod2 = BED.addPod("pod-2", 12);
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().build()).create();
        vertx = Vertx.vertx();
        agent = start();
    }

    private static Agent start() throws Exception {
        return BedAgent.start(BedAgent.quick(BED), client, vertx, BED);
    }

    @AfterAll
    static void stopAgent() throws Exception {
        BedAgent.stop(agent);
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(1)
    void clientReachesEveryEndpointThroughClusterIPAndNodePort() throws Exception {
        client.resource(nodePort("web", "198.19.0.10", 80, 8080, 30080, false)).create();
        client.resource(slice("web", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"), Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("ClusterIP programmed", () -> c.tcp("198.19.0.10", 80), a -> a.startsWith("pod-"));

        assertEquals(Set.of("pod-1", "pod-2"), answers(40, () -> c.tcp("198.19.0.10", 80)), "ClusterIP spreads over both endpoints");
        assertEquals(Set.of("pod-1", "pod-2"), answers(40, () -> c.tcp(NetnsTestBed.NODE_EXTERNAL_IP, 30080)),
                "NodePort spreads over both endpoints");
        assertTrue(agent.successfulSyncs() > 0);
    }

    @Test
    @Order(2)
    void removingAnEndpointMovesTrafficAway() throws Exception {
        client.resource(slice("web", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"))).update();
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("pod-2 removed", () -> String.join(",", answers(10, () -> c.tcp("198.19.0.10", 80))), a -> a.equals("pod-1"));
        assertEquals(Set.of("pod-1"), answers(30, () -> c.tcp("198.19.0.10", 80)));
    }

    @Test
    @Order(3)
    void udpFlowToARemovedEndpointRecoversThroughConntrackCleanup() throws Exception {
        Service dns = service("dns", "198.19.0.53", "UDP", 53, 5353).build();
        client.resource(dns).create();
        client.resource(slice("dns", "UDP", 5353, Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client c = BED.client();
        // The same source port every time: one conntrack flow, pinned to pod-2 once established.
        awaitAnswer("UDP Service programmed", () -> c.udp("198.19.0.53", 53, 40053), "pod-2"::equals);
        assertEquals("pod-2", c.udp("198.19.0.53", 53, 40053));

        // pod-2 stops being an endpoint but its server keeps answering: only deleting the conntrack entry
        // can move this flow (without it, the flow stays on pod-2 for as long as packets keep coming).
        client.resource(slice("dns", "UDP", 5353, Ep.ready(pod1.ip(), "node-a"))).update();
        awaitAnswer("UDP flow moved to pod-1", () -> c.udp("198.19.0.53", 53, 40053), "pod-1"::equals);
        assertTrue(agent.registry().get("kubeproxy.conntrack.reconciler.deleted.entries").counter().count() >= 1,
                "the stale entry was deleted by the conntrack hook");
    }

    @Test
    @Order(4)
    void serviceWithoutEndpointsIsRefusedAtOnce() throws Exception {
        client.resource(service("empty", "198.19.0.60", "TCP", 80, 8080).build()).create();
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("REJECT programmed", () -> c.tcp("198.19.0.60", 80), "REFUSED"::equals);
        // Refused, not timed out: every attempt gets an immediate ICMP port-unreachable.
        assertEquals(Set.of("REFUSED"), answers(5, () -> c.tcp("198.19.0.60", 80)));
    }

    @Test
    @Order(5)
    void clientIPAffinityHolds() throws Exception {
        Service sticky = service("sticky", "198.19.0.70", "TCP", 80, 8080).editSpec().withSessionAffinity("ClientIP").endSpec().build();
        client.resource(sticky).create();
        client.resource(slice("sticky", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"), Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("affinity Service programmed", () -> c.tcp("198.19.0.70", 80), a -> a.startsWith("pod-"));
        Set<String> seen = answers(30, () -> c.tcp("198.19.0.70", 80));
        assertEquals(1, seen.size(), "one client, one endpoint: " + seen);
    }

    @Test
    @Order(6)
    void externalTrafficPolicyLocalKeepsExternalTrafficOnLocalEndpoints() throws Exception {
        client.resource(nodePort("local", "198.19.0.80", 80, 8080, 30090, true)).create();
        client.resource(slice("local", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"), Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("NodePort programmed", () -> c.tcp(NetnsTestBed.NODE_EXTERNAL_IP, 30090), a -> a.startsWith("pod-"));
        assertEquals(Set.of("pod-1"), answers(30, () -> c.tcp(NetnsTestBed.NODE_EXTERNAL_IP, 30090)),
                "external traffic only reaches the endpoint on this node");
        // Internal traffic to the ClusterIP still uses every endpoint (Cluster internal policy).
        assertEquals(Set.of("pod-1", "pod-2"), answers(40, () -> c.tcp("198.19.0.80", 80)));
    }

    @Test
    @Order(7)
    void restartUnderContinuousTrafficFailsNoConnection() throws Exception {
        NetnsTestBed.Client c = BED.client();
        int before = agent.successfulSyncs();
        assertTrue(before > 0);
        long t0 = System.currentTimeMillis();
        CompletableFuture<String> traffic = CompletableFuture.supplyAsync(() -> {
            try {
                return c.ask("loop 198.19.0.10 80 6000 20");
            } catch (Exception e) {
                return "ERROR " + e;
            }
        });
        Thread.sleep(1000);
        long stopping = System.currentTimeMillis() - t0;
        BedAgent.stop(agent);
        long stopped = System.currentTimeMillis() - t0;
        Thread.sleep(500);
        agent = start();
        long started = System.currentTimeMillis() - t0;
        long deadline = System.currentTimeMillis() + 20_000;
        while (agent.successfulSyncs() == 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        long synced = System.currentTimeMillis() - t0;
        assertTrue(agent.successfulSyncs() > 0, "the new agent synced");
        assertTrue(agent.lastResult().full(), "a restarted agent's first sync is full");
        String result = traffic.get(40, TimeUnit.SECONDS);
        // The times (from the traffic's start, give or take the client's start-up) place a failure in the restart.
        assertTrue(result.startsWith("ok ") && result.contains(" failed 0"), "no failed connection across the restart: " + result
                + "; agent stopping at +" + stopping + " ms, stopped +" + stopped + ", new agent started +" + started
                + ", first sync seen +" + synced);
    }

    @Test
    @Order(8)
    void cleanupLeavesNoKubeFerryRuleBehind() throws Exception {
        BedAgent.stop(agent);
        agent = null;
        assertTrue(BED.exec(BED.nodeNs(), "iptables-nft-save").contains("KUBE-SVC-"), "rules present before cleanup");
        assertEquals(0, Main.execute("cleanup", "--netns", BED.nodeNs(), "--hostname-override", "node-a"));
        String nft = BED.exec(BED.nodeNs(), "iptables-nft-save");
        String legacy = BED.exec(BED.nodeNs(), "iptables-legacy-save");
        // Except kubelet's KUBE-FIREWALL, which upstream kube-proxy also creates and never removes in cleanup.
        assertFalse(nft.lines().filter(l -> !l.contains("KUBE-FIREWALL")).anyMatch(l -> l.contains("KUBE-")), "nft rules left:\n" + nft);
        assertFalse(legacy.contains("KUBE-"), "legacy rules left:\n" + legacy);
    }
}
