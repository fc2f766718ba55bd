package io.kubeferry.it;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.cli.Main;
import io.kubeferry.proxy.config.ProxyConfig;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.List;
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
 * The agent programs a real kernel, in the mode a subclass names: it runs in this JVM against a Fabric8 CRUD mock
 * API and programs the bed's node namespace; a client namespace sends real TCP and UDP through the rules to echo
 * servers in pod namespaces. The cases are the same for every mode; a subclass says how its mode's state looks
 * in the kernel. Per-class instance (not static) state, so each subclass has its own bed, mock API and agent (the
 * mock is built here, as {@code @EnableKubernetesMockClient(crud = true)} builds it: that extension serves only
 * fields the test class itself declares).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RealKernelAgentCases {

    private CrudMockApi api;
    KubernetesClient client;
    Vertx vertx;
    Agent agent;
    NetnsTestBed.Pod pod1;
    NetnsTestBed.Pod pod2;

    private final NetnsTestBed bed;

    /** @param bed the subclass's bed: a static {@code @RegisterExtension} field of its own, so it is set up before this */
    RealKernelAgentCases(NetnsTestBed bed) {
        this.bed = bed;
    }

    NetnsTestBed bed() {
        return bed;
    }

    /** The agent's configuration in this class's mode. */
    abstract ProxyConfig config();

    /** Fails unless the node namespace holds this mode's Service state (before cleanup). */
    abstract void assertProgrammed() throws Exception;

    /**
     * What a restarted agent must take over rather than recreate (e.g. a table's kernel handle, which deleting and
     * re-adding the table would change); empty where the mode has nothing of the kind.
     */
    String keptAcrossRestart() throws Exception {
        return "";
    }

    /**
     * After {@link #restartUnderContinuousTrafficFailsNoConnection}'s restart with the same objects: fails unless the
     * new agent's first sync converged without rewriting everything, where the mode can (nftables reads its table
     * back); nothing where it cannot.
     */
    void assertRestartWroteLittle() {
    }

    /** Skips the class (an Assumption) when the machine lacks what this mode needs. */
    void assumeMode() throws Exception {
    }

    @BeforeAll
    void startAgent() throws Exception {
        assumeMode();
        api = new CrudMockApi();
        client = api.client();
        pod1 = bed().addPod("pod-1", 11);
        pod2 = bed().addPod("pod-2", 12);
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().build()).create();
        vertx = Vertx.vertx();
        agent = start();
    }

    Agent start() throws Exception {
        return start(config());
    }

    Agent start(ProxyConfig config) throws Exception {
        return BedAgent.start(config, client, vertx, bed());
    }

    @AfterAll
    void stopAgent() throws Exception {
        BedAgent.stop(agent);
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (api != null) {
            api.close();
        }
    }

    @Test
    @Order(1)
    void clientReachesEveryEndpointThroughClusterIPAndNodePort() throws Exception {
        client.resource(nodePort("web", "198.19.0.10", 80, 8080, 30080, false)).create();
        client.resource(slice("web", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"), Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client c = bed().client();
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
        NetnsTestBed.Client c = bed().client();
        awaitAnswer("pod-2 removed", () -> String.join(",", answers(10, () -> c.tcp("198.19.0.10", 80))), a -> a.equals("pod-1"));
        assertEquals(Set.of("pod-1"), answers(30, () -> c.tcp("198.19.0.10", 80)));
    }

    @Test
    @Order(3)
    void udpFlowToARemovedEndpointRecoversThroughConntrackCleanup() throws Exception {
        Service dns = service("dns", "198.19.0.53", "UDP", 53, 5353).build();
        client.resource(dns).create();
        client.resource(slice("dns", "UDP", 5353, Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client c = bed().client();
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
        NetnsTestBed.Client c = bed().client();
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
        NetnsTestBed.Client c = bed().client();
        awaitAnswer("affinity Service programmed", () -> c.tcp("198.19.0.70", 80), a -> a.startsWith("pod-"));
        Set<String> seen = answers(30, () -> c.tcp("198.19.0.70", 80));
        assertEquals(1, seen.size(), "one client, one endpoint: " + seen);
    }

    @Test
    @Order(6)
    void externalTrafficPolicyLocalKeepsExternalTrafficOnLocalEndpoints() throws Exception {
        client.resource(nodePort("local", "198.19.0.80", 80, 8080, 30090, true)).create();
        client.resource(slice("local", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"), Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client c = bed().client();
        awaitAnswer("NodePort programmed", () -> c.tcp(NetnsTestBed.NODE_EXTERNAL_IP, 30090), a -> a.startsWith("pod-"));
        assertEquals(Set.of("pod-1"), answers(30, () -> c.tcp(NetnsTestBed.NODE_EXTERNAL_IP, 30090)),
                "external traffic only reaches the endpoint on this node");
        // Internal traffic to the ClusterIP still uses every endpoint (Cluster internal policy).
        assertEquals(Set.of("pod-1", "pod-2"), answers(40, () -> c.tcp("198.19.0.80", 80)));
    }

    @Test
    @Order(7)
    void loadBalancerIpAdmitsOnlyClientsInItsSourceRanges() throws Exception {
        String lbIP = "198.19.1.100";
        client.resource(loadBalancer("lb", "198.19.0.90", lbIP, 30100, List.of(NetnsTestBed.CLIENT_IP + "/32"))).create();
        client.resource(slice("lb", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"), Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client allowed = bed().client();
        NetnsTestBed.Client denied = bed().otherClient();
        awaitAnswer("LB IP programmed for an allowed client", () -> allowed.tcp(lbIP, 80), a -> a.startsWith("pod-"));
        assertEquals(Set.of("pod-1", "pod-2"), answers(30, () -> allowed.tcp(lbIP, 80)), "an allowed client reaches every endpoint");
        // Outside the ranges: dropped (no answer at all), not refused; the ClusterIP is not behind the ranges.
        assertEquals(Set.of("TIMEOUT"), answers(2, () -> denied.tcp(lbIP, 80)), "a client outside the ranges is dropped");
        assertTrue(denied.tcp("198.19.0.90", 80).startsWith("pod-"), "the other client still reaches the ClusterIP");

        // The ranges changed: the clients swap places.
        client.resource(loadBalancer("lb", "198.19.0.90", lbIP, 30100, List.of(NetnsTestBed.OTHER_CLIENT_IP + "/32"))).update();
        awaitAnswer("LB IP open to the other client", () -> denied.tcp(lbIP, 80), a -> a.startsWith("pod-"));
        assertEquals(Set.of("TIMEOUT"), answers(2, () -> allowed.tcp(lbIP, 80)), "the first client is dropped now");
    }

    private static Service loadBalancer(String name, String clusterIP, String lbIP, int nodePort, List<String> ranges) {
        return service(name, clusterIP, "TCP", 80, 8080).editSpec().withType("LoadBalancer").withLoadBalancerSourceRanges(ranges)
                .editFirstPort().withNodePort(nodePort).endPort().endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withIp(lbIP).endIngress().endLoadBalancer().endStatus().build();
    }

    @Test
    @Order(8)
    void restartUnderContinuousTrafficFailsNoConnection() throws Exception {
        int before = agent.successfulSyncs();
        assertTrue(before > 0);
        String kept = keptAcrossRestart();
        long t0 = System.currentTimeMillis();
        CompletableFuture<String> traffic = trafficLoop(6000);
        Thread.sleep(1000);
        long stopping = System.currentTimeMillis() - t0;
        BedAgent.stop(agent);
        long stopped = System.currentTimeMillis() - t0;
        Thread.sleep(500);
        agent = start();
        long started = System.currentTimeMillis() - t0;
        awaitFirstSync();
        long synced = System.currentTimeMillis() - t0;
        assertTrue(agent.successfulSyncs() > 0, "the new agent synced");
        assertTrue(agent.lastResult().full(), "a restarted agent's first sync is full");
        assertEquals(kept, keptAcrossRestart(), "the new agent took the kernel state over, it did not recreate it");
        assertRestartWroteLittle();
        String result = traffic.get(40, TimeUnit.SECONDS);
        // The times (from the traffic's start, give or take the client's start-up) place a failure in the restart.
        assertTrue(result.startsWith("ok ") && result.contains(" failed 0"), "no failed connection across the restart: " + result
                + "; agent stopping at +" + stopping + " ms, stopped +" + stopped + ", new agent started +" + started
                + ", first sync seen +" + synced);
    }

    /** A connection to the "web" ClusterIP every 20 ms for {@code millis}, in the background; "ok N failed M". */
    CompletableFuture<String> trafficLoop(long millis) throws Exception {
        NetnsTestBed.Client c = bed().client();
        return CompletableFuture.supplyAsync(() -> {
            try {
                return c.ask("loop 198.19.0.10 80 " + millis + " 20");
            } catch (Exception e) {
                return "ERROR " + e;
            }
        });
    }

    void awaitFirstSync() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (agent.successfulSyncs() == 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
    }

    /**
     * kubernetes#100698: a long-lived TCP connection whose endpoint left the EndpointSlice. With the Service opted in
     * ({@code kube-ferry.io/conntrack-flush-tcp}) its conntrack entry is deleted, so the client's next packet is a new
     * flow, DNATed to the remaining endpoint, which answers the unknown connection with a reset: the client fails at
     * once instead of talking into the void. (pod-2's server keeps running here, so "the void" would answer; what the
     * test shows is that the flow no longer reaches it.)
     */
    @Test
    @Order(9)
    void aLongLivedTcpFlowToARemovedEndpointIsCutWhenTheServiceOptsIn() throws Exception {
        String vip = "198.19.0.30";
        NetnsTestBed.Client c = longLivedFlowToPod2("cut", vip, true);
        double before = tcpFlowsDeleted();

        client.resource(slice("cut", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"))).update();
        awaitAnswer("pod-2's flow deleted", () -> String.valueOf(tcpFlowsDeleted()), v -> Double.parseDouble(v) > before);
        assertFalse(conntrackTo(vip).contains("src=" + pod2.ip() + " "), "no entry to pod-2 left:\n" + conntrackTo(vip));
        assertEquals("RESET", c.ask("probe cut 5000"), "the client's next packet is answered with a reset");
        assertEquals("pod-1", c.tcp(vip, 80), "new connections work");
        var took = agent.registry().get("kubeferry.conntrack.hook.duration").tag("hook", "flush-tcp").timer();
        System.out.printf("flush-tcp hook: %d calls, max %.1f ms (one conntrack -D per removed endpoint)%n", took.count(),
                took.max(java.util.concurrent.TimeUnit.MILLISECONDS));
    }

    /** Without the annotation (and the node default off) upstream's behaviour stays: the flow keeps its endpoint. */
    @Test
    @Order(10)
    void withoutTheOptInTheFlowStaysOnTheRemovedEndpoint() throws Exception {
        String vip = "198.19.0.31";
        NetnsTestBed.Client c = longLivedFlowToPod2("kept", vip, false);

        client.resource(slice("kept", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"))).update();
        awaitProgrammedAndHooksDone("kept", vip, false);
        assertTrue(conntrackTo(vip).contains("src=" + pod2.ip() + " "), "the entry to pod-2 stays:\n" + conntrackTo(vip));
        assertEquals("CLOSED", c.ask("probe kept 5000"), "the flow still reaches pod-2, which closes it in order");
    }

    /** Opted in, but the endpoint is terminating: its flows drain (graceful termination), nothing is cut. */
    @Test
    @Order(11)
    void aTerminatingEndpointKeepsItsFlow() throws Exception {
        String vip = "198.19.0.32";
        NetnsTestBed.Client c = longLivedFlowToPod2("drain", vip, true);

        client.resource(slice("drain", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"), new Ep(pod2.ip(), "node-b", false, true))).update();
        awaitProgrammedAndHooksDone("drain", vip, true);
        assertTrue(conntrackTo(vip).contains("src=" + pod2.ip() + " "), "the entry to pod-2 stays:\n" + conntrackTo(vip));
        assertEquals("CLOSED", c.ask("probe drain 5000"), "the flow still reaches the draining pod-2");
    }

    /** A Service with pod-2 alone, and one connection to it held open under the Service's name. */
    private NetnsTestBed.Client longLivedFlowToPod2(String name, String vip, boolean optIn) throws Exception {
        ServiceBuilder svc = service(name, vip, "TCP", 80, 8080);
        if (optIn) {
            svc.editMetadata().addToAnnotations("kube-ferry.io/conntrack-flush-tcp", "true").endMetadata();
        }
        client.resource(svc.build()).create();
        client.resource(slice(name, "TCP", 8080, Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client c = bed().client();
        awaitAnswer(name + " programmed", () -> c.tcp(vip, 80), "pod-2"::equals);
        assertEquals("pod-2", c.ask("open " + name + " " + vip + " 80"));
        assertTrue(conntrackTo(vip).contains("src=" + pod2.ip() + " "), "the flow is tracked:\n" + conntrackTo(vip));
        return c;
    }

    /** New connections reach pod-1, the agent's state has pod-2 gone (or terminating), and every hook is done with it. */
    private void awaitProgrammedAndHooksDone(String name, String vip, boolean pod2Terminating) throws Exception {
        NetnsTestBed.Client c = bed().client();
        awaitAnswer(name + ": new connections reach pod-1", () -> c.tcp(vip, 80), "pod-1"::equals);
        awaitAnswer(name + ": the agent's state has the change", () -> String.valueOf(agent.lastState().services().values().stream()
                .filter(s -> s.name().name().equals(name)).flatMap(s -> s.allEndpoints().stream())
                .filter(ep -> ep.ip().equals(pod2.ip())).map(ep -> ep.terminating()).toList()),
                v -> v.equals(pod2Terminating ? "[true]" : "[]"));
        awaitAnswer(name + ": the hooks are done", () -> String.valueOf(agent.hooksIdle()), "true"::equals);
    }

    private String conntrackTo(String vip) throws Exception {
        return bed().stdout(bed().nodeNs(), "conntrack", "-L", "-p", "tcp", "--orig-dst", vip);
    }

    private double tcpFlowsDeleted() {
        return agent.registry().get("kubeferry.conntrack.tcp.deleted.entries").counter().count();
    }

    /** Runs last: every mode's cleanup removes every mode's state, whatever mode ran. */
    @Test
    @Order(100)
    void cleanupLeavesNoKubeFerryRuleBehind() throws Exception {
        BedAgent.stop(agent);
        agent = null;
        assertProgrammed();
        assertEquals(0, Main.execute("cleanup", "--netns", bed().nodeNs(), "--hostname-override", "node-a"));
        assertNoIptablesModeState();
        assertNoNftablesModeState();
    }

    void assertNoIptablesModeState() throws Exception {
        String nft = bed().exec(bed().nodeNs(), "iptables-nft-save");
        String legacy = bed().exec(bed().nodeNs(), "iptables-legacy-save");
        // Except kubelet's KUBE-FIREWALL, which upstream kube-proxy also creates and never removes in cleanup.
        assertFalse(nft.lines().filter(l -> !l.contains("KUBE-FIREWALL")).anyMatch(l -> l.contains("KUBE-")), "nft rules left:\n" + nft);
        assertFalse(legacy.contains("KUBE-"), "legacy rules left:\n" + legacy);
    }

    void assertNoNftablesModeState() throws Exception {
        String tables = bed().exec(bed().nodeNs(), "nft", "list", "tables");
        assertFalse(tables.contains("table ip kube-proxy"), "nftables mode's table left: " + tables);
    }
}
