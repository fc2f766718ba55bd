package io.kubeferry.it;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.cli.Main;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.model.IpFamily;
import io.micrometer.core.instrument.Counter;
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
import java.util.concurrent.TimeUnit;

import static io.kubeferry.it.ClusterObjects.nodePort;
import static io.kubeferry.it.ClusterObjects.service;
import static io.kubeferry.it.ClusterObjects.slice;
import static io.kubeferry.it.ClusterObjects.slice6;
import static io.kubeferry.it.NetnsTestBed.NODE_EXTERNAL_IP;
import static io.kubeferry.it.NetnsTestBed.NODE_EXTERNAL_IP6;
import static io.kubeferry.it.Traffic.answers;
import static io.kubeferry.it.Traffic.awaitAnswer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14 on a real kernel: the agent (in this JVM, against a CRUD mock API, as {@link RealKernelAgentCases} runs
 * it) programs a {@link NetnsTestBed#dualStack() dual-stack bed}'s node namespace, one dataplane per family, and the
 * client sends real TCP and UDP over IPv4 and IPv6 to echo servers in pod namespaces that have an address of each
 * family. The cases are the same in every mode; a subclass names the mode and how a family's kernel state reads.
 * <p>
 * Services: "dual" (IPv4 primary) and "dns" (IPv6 primary, UDP) have a ClusterIP of each family, "v6only" and
 * "v4only" one. pod-1 runs on this node (node-a), pod-2 on another; both answer on both families.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DualStackRealKernelCases {

    static final String DUAL_V4 = "198.19.0.10";
    static final String DUAL_V6 = "2001:db8:f::10";
    static final int DUAL_NODE_PORT = 30080;
    static final String V6ONLY = "2001:db8:f::20";
    static final int V6ONLY_NODE_PORT = 30081;
    static final String V4ONLY = "198.19.0.20";
    static final int V4ONLY_NODE_PORT = 30082;
    static final String DNS_V6 = "2001:db8:f::53";
    static final String DNS_V4 = "198.19.0.53";

    /** Owned by the instance, not a static extension: the subclasses are {@code @Nested} and each gets a bed of its own. */
    final NetnsTestBed bed = NetnsTestBed.dualStack();
    private CrudMockApi api;
    KubernetesClient client;
    private Vertx vertx;
    Agent agent;
    NetnsTestBed.Pod pod1;
    NetnsTestBed.Pod pod2;

    /** This mode's agent configuration, from the bed's dual-stack one ({@code clusterCIDR} holds both families). */
    abstract ProxyConfig config(ProxyConfig dualStack);

    /** The family's own kernel state as its tool prints it (e.g. ip6tables-save for IPv6 in iptables mode). */
    abstract String ruleset(IpFamily family) throws Exception;

    /** Fails unless no state of this mode is left in {@code family}'s tables after cleanup. */
    abstract void assertCleanedUp(IpFamily family) throws Exception;

    /** Skips the class (an Assumption) when the machine lacks what this mode needs. */
    void assumeMode() throws Exception {
    }

    @BeforeAll
    void startAgent() throws Exception {
        bed.beforeAll(null);
        assumeMode();
        api = new CrudMockApi();
        client = api.client();
        pod1 = bed.addPod("pod-1", 11);
        pod2 = bed.addPod("pod-2", 12);
        // A dual-stack node's addresses: each family's state holds only its own.
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().withNewStatus()
                .addNewAddress().withType("InternalIP").withAddress(NODE_EXTERNAL_IP).endAddress()
                .addNewAddress().withType("InternalIP").withAddress(NODE_EXTERNAL_IP6).endAddress().endStatus().build()).create();
        vertx = Vertx.vertx();
        agent = BedAgent.start(config(BedAgent.quick(bed)), client, vertx, bed);
    }

    @AfterAll
    void stopAgent() throws Exception {
        try {
            BedAgent.stop(agent);
            if (vertx != null) {
                vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            if (api != null) {
                api.close();
            }
        } finally {
            bed.afterAll(null);
        }
    }

    @Test
    @Order(1)
    void aDualStackServiceAnswersOnBothFamiliesThroughClusterIPAndNodePort() throws Exception {
        client.resource(nodePort("dual", List.of(DUAL_V4, DUAL_V6), 80, 8080, DUAL_NODE_PORT)).create();
        client.resource(slice("dual", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"), Ep.ready(pod2.ip(), "node-b"))).create();
        client.resource(slice6("dual", "TCP", 8080, Ep.ready(pod1.ip6(), "node-a"), Ep.ready(pod2.ip6(), "node-b"))).create();
        NetnsTestBed.Client c = bed.client();
        awaitAnswer("IPv6 ClusterIP programmed", () -> c.tcp(DUAL_V6, 80), a -> a.startsWith("pod-"));
        awaitAnswer("IPv4 ClusterIP programmed", () -> c.tcp(DUAL_V4, 80), a -> a.startsWith("pod-"));

        Set<String> both = Set.of("pod-1", "pod-2");
        assertEquals(both, answers(40, () -> c.tcp(DUAL_V6, 80)), "the IPv6 ClusterIP spreads over both IPv6 endpoints");
        assertEquals(both, answers(40, () -> c.tcp(DUAL_V4, 80)), "the IPv4 ClusterIP spreads over both IPv4 endpoints");
        assertEquals(both, answers(40, () -> c.tcp(NODE_EXTERNAL_IP6, DUAL_NODE_PORT)), "the NodePort on the node's IPv6 address");
        assertEquals(both, answers(40, () -> c.tcp(NODE_EXTERNAL_IP, DUAL_NODE_PORT)), "the NodePort on the node's IPv4 address");
    }

    @Test
    @Order(2)
    void anIpv6OnlyServiceIsNotOpenOnIpv4() throws Exception {
        client.resource(nodePort("v6only", List.of(V6ONLY), 80, 8080, V6ONLY_NODE_PORT)).create();
        client.resource(slice6("v6only", "TCP", 8080, Ep.ready(pod1.ip6(), "node-a"))).create();
        NetnsTestBed.Client c = bed.client();
        awaitAnswer("IPv6-only Service programmed", () -> c.tcp(V6ONLY, 80), "pod-1"::equals);
        assertEquals("pod-1", c.tcp(NODE_EXTERNAL_IP6, V6ONLY_NODE_PORT), "its NodePort on the node's IPv6 address");
        // No IPv4 rule for it: the node's own stack answers its IPv4 NodePort, with nothing listening there.
        assertEquals("REFUSED", c.tcp(NODE_EXTERNAL_IP, V6ONLY_NODE_PORT), "its NodePort is not open on the node's IPv4 address");
        assertEquals("pod-1", c.tcp(V6ONLY, 80), "the IPv6 ClusterIP still answers");
    }

    /**
     * An IPv4-only Service, with a stray IPv6 slice beside its IPv4 one (as a dual-stack Service turned SingleStack
     * leaves until the controller removes it): a family holds a Service only if the Service has a ClusterIP of that
     * family, so its endpoints' IPv6 addresses open nothing.
     */
    @Test
    @Order(3)
    void anIpv4OnlyServiceIsNotOpenOnIpv6() throws Exception {
        client.resource(nodePort("v4only", List.of(V4ONLY), 80, 8080, V4ONLY_NODE_PORT)).create();
        client.resource(slice("v4only", "TCP", 8080, Ep.ready(pod2.ip(), "node-b"))).create();
        client.resource(slice6("v4only", "TCP", 8080, Ep.ready(pod2.ip6(), "node-b"))).create();
        NetnsTestBed.Client c = bed.client();
        awaitAnswer("IPv4-only Service programmed", () -> c.tcp(V4ONLY, 80), "pod-2"::equals);
        assertEquals("pod-2", c.tcp(NODE_EXTERNAL_IP, V4ONLY_NODE_PORT), "its NodePort on the node's IPv4 address");
        assertEquals("REFUSED", c.tcp(NODE_EXTERNAL_IP6, V4ONLY_NODE_PORT), "its NodePort is not open on the node's IPv6 address");
    }

    /**
     * The stale-UDP hook over IPv6: a UDP flow (one source port, one conntrack entry) to the IPv6 ClusterIP is pinned
     * to pod-2; pod-2 leaves the IPv6 slice but its server keeps answering, so only deleting the entry
     * ({@code conntrack -f ipv6}) can move the flow, which then reaches pod-1.
     */
    @Test
    @Order(4)
    void anIpv6UdpFlowToARemovedEndpointRecoversThroughConntrackCleanup() throws Exception {
        client.resource(service("dns", List.of(DNS_V6, DNS_V4), "UDP", 53, 5353).build()).create();
        client.resource(slice6("dns", "UDP", 5353, Ep.ready(pod2.ip6(), "node-b"))).create();
        client.resource(slice("dns", "UDP", 5353, Ep.ready(pod2.ip(), "node-b"))).create();
        NetnsTestBed.Client c = bed.client();
        // Programmed: probed from a new source port each time, so a probe sent before the rules were in place (its
        // flow tracked un-NATed) holds no later one back; the flow under test then starts on programmed rules alone.
        java.util.concurrent.atomic.AtomicInteger probePort = new java.util.concurrent.atomic.AtomicInteger(41000);
        awaitAnswer("IPv6 UDP Service programmed", () -> c.udp(DNS_V6, 53, probePort.getAndIncrement()), "pod-2"::equals);
        assertEquals("pod-2", c.udp(DNS_V6, 53, 40053));
        assertTrue(udpConntrackTo(DNS_V6).contains("src=" + pod2.ip6() + " "), "the flow is tracked:\n" + udpConntrackTo(DNS_V6));
        double deletedBefore = staleUdpEntriesDeleted();

        client.resource(slice6("dns", "UDP", 5353, Ep.ready(pod1.ip6(), "node-a"))).update();
        awaitAnswer("IPv6 UDP flow moved to pod-1", () -> c.udp(DNS_V6, 53, 40053), "pod-1"::equals);
        assertFalse(udpConntrackTo(DNS_V6).contains("src=" + pod2.ip6() + " "), "no entry to pod-2 left:\n" + udpConntrackTo(DNS_V6));
        assertTrue(staleUdpEntriesDeleted() > deletedBefore, "the stale entry was deleted by the conntrack hook (IPv6's count)");
        assertEquals("pod-2", c.udp(DNS_V4, 53, 40054), "the Service's IPv4 side kept its endpoint");
    }

    /** Each family's tables hold that family's Services and addresses only. */
    @Test
    @Order(5)
    void eachFamilysRulesHoldOnlyThatFamily() throws Exception {
        String v4 = ruleset(IpFamily.IPv4);
        String v6 = ruleset(IpFamily.IPv6);
        for (String present : List.of("default/dual", "default/dns", "default/v6only", DUAL_V6, V6ONLY, DNS_V6, pod1.ip6(), pod2.ip6())) {
            assertTrue(v6.contains(present), "IPv6 rules hold " + present + ":\n" + v6);
        }
        for (String absent : List.of("default/v4only", "198.18.", "198.19.")) {
            assertFalse(v6.contains(absent), "IPv6 rules hold no " + absent + ":\n" + v6);
        }
        for (String present : List.of("default/dual", "default/dns", "default/v4only", DUAL_V4, V4ONLY, DNS_V4, pod1.ip(), pod2.ip())) {
            assertTrue(v4.contains(present), "IPv4 rules hold " + present + ":\n" + v4);
        }
        for (String absent : List.of("default/v6only", "2001:db8")) {
            assertFalse(v4.contains(absent), "IPv4 rules hold no " + absent + ":\n" + v4);
        }
    }

    /**
     * From a pod, over IPv6: the dual-stack Service's IPv6 ClusterIP reaches both endpoints, the pod itself included
     * (hairpin: masqueraded to the node, so the answer comes back through the pod's own bridge port).
     */
    @Test
    @Order(6)
    void aPodReachesEveryEndpointItselfIncludedThroughTheIpv6ClusterIP() throws Exception {
        NetnsTestBed.Client fromPod = bed.clientIn(pod1.ns());
        assertEquals(Set.of("pod-1", "pod-2"), answers(40, () -> fromPod.tcp(DUAL_V6, 80)), "pod-1 reaches pod-2 and itself");
    }

    /**
     * loadBalancerSourceRanges per family (as upstream's MapCIDRsByIPFamily): a dual-stack LoadBalancer whose ranges
     * hold the client's IPv4 and IPv6 addresses admits that client on both ingress IPs, and drops the other client on
     * both, while the other client still reaches the ClusterIPs, which the ranges do not guard.
     */
    @Test
    @Order(7)
    void loadBalancerSourceRangesApplyInEachFamily() throws Exception {
        String lbV4 = "198.19.1.100";
        String lbV6 = "2001:db8:f::ff90";
        client.resource(service("lb", List.of("198.19.0.90", "2001:db8:f::90"), "TCP", 80, 8080).editSpec().withType("LoadBalancer")
                .withLoadBalancerSourceRanges(NetnsTestBed.CLIENT_IP + "/32", NetnsTestBed.CLIENT_IP6 + "/128").editFirstPort()
                .withNodePort(30100).endPort().endSpec().withNewStatus().withNewLoadBalancer().addNewIngress().withIp(lbV4).endIngress()
                .addNewIngress().withIp(lbV6).endIngress().endLoadBalancer().endStatus().build()).create();
        client.resource(slice("lb", "TCP", 8080, Ep.ready(pod1.ip(), "node-a"), Ep.ready(pod2.ip(), "node-b"))).create();
        client.resource(slice6("lb", "TCP", 8080, Ep.ready(pod1.ip6(), "node-a"), Ep.ready(pod2.ip6(), "node-b"))).create();
        NetnsTestBed.Client allowed = bed.client();
        NetnsTestBed.Client denied = bed.otherClient();
        awaitAnswer("IPv6 LB IP programmed for an allowed client", () -> allowed.tcp(lbV6, 80), a -> a.startsWith("pod-"));
        awaitAnswer("IPv4 LB IP programmed for an allowed client", () -> allowed.tcp(lbV4, 80), a -> a.startsWith("pod-"));
        // Outside the ranges: dropped (no answer at all), not refused.
        assertEquals(Set.of("TIMEOUT"), answers(2, () -> denied.tcp(lbV6, 80)), "a client outside the IPv6 ranges is dropped");
        assertEquals(Set.of("TIMEOUT"), answers(2, () -> denied.tcp(lbV4, 80)), "a client outside the IPv4 ranges is dropped");
        assertTrue(denied.tcp("2001:db8:f::90", 80).startsWith("pod-"), "the other client still reaches the IPv6 ClusterIP");
        assertTrue(denied.tcp("198.19.0.90", 80).startsWith("pod-"), "the other client still reaches the IPv4 ClusterIP");
    }

    /** Runs last: cleanup removes this mode's state from both families' tables. */
    @Test
    @Order(100)
    void cleanupRemovesBothFamiliesState() throws Exception {
        BedAgent.stop(agent);
        agent = null;
        assertTrue(ruleset(IpFamily.IPv6).contains("default/dual"), "IPv6 rules present before cleanup");
        assertEquals(0, Main.execute("cleanup", "--netns", bed.nodeNs(), "--hostname-override", "node-a"));
        assertCleanedUp(IpFamily.IPv4);
        assertCleanedUp(IpFamily.IPv6);
    }

    private String udpConntrackTo(String vip) throws Exception {
        return bed.stdout(bed.nodeNs(), "conntrack", "-L", "-f", "ipv6", "-p", "udp", "--orig-dst", vip);
    }

    /** IPv6's count (upstream's metric, labelled by family as upstream's per-family proxiers label it; none before its first use). */
    private double staleUdpEntriesDeleted() {
        return agent.registry().find("kubeproxy.conntrack.reconciler.deleted.entries").tag("ip_family", "IPv6").counters().stream()
                .mapToDouble(Counter::count).sum();
    }
}
