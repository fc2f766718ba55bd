package io.kubeferry.it.controlplane;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDRBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.BedAgent;
import io.kubeferry.it.ClusterObjects;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.it.NetnsTestBed;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.testing.LogCapture;
import io.kubeferry.proxy.watch.ApiReachability;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.kubeferry.it.Traffic.answers;
import static io.kubeferry.it.Traffic.awaitAnswer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent against a real kube-apiserver and the real EndpointSlice controller, programming a real
 * kernel: Pods are simulated on node-a as network namespaces with echo servers.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealApiServerTest {

    @RegisterExtension
    @Order(1)
    static final NetnsTestBed BED = new NetnsTestBed();

    @RegisterExtension
    @Order(2)
    static final RealControlPlane CONTROL_PLANE = new RealControlPlane();

    private static final AtomicInteger NEXT_OCTET = new AtomicInteger(20);
    private static KubernetesClient client;
    private static KubernetesClient agentClient;
    /** On agentClient's HTTP client, as Main.client wires the agent's own. */
    private static final ApiReachability REACHABILITY = new ApiReachability();
    private static NodeSimulator node;
    private static Vertx vertx;
    private static Agent agent;

    @BeforeAll
    static void start() throws Exception {
        client = CONTROL_PLANE.client();
        node = new NodeSimulator(client, "node-a", pod -> BED.addPod(pod.getMetadata().getName(), NEXT_OCTET.getAndIncrement()).ip())
                .start();
        vertx = Vertx.vertx();
        agentClient = CONTROL_PLANE.controlPlane().client(REACHABILITY);
        agent = startAgent();
    }

    private static Agent startAgent() throws Exception {
        return BedAgent.start(BedAgent.quick(BED), agentClient, REACHABILITY, vertx, BED);
    }

    @AfterAll
    static void stop() throws Exception {
        BedAgent.stop(agent);
        if (node != null) {
            node.close();
        }
        if (agentClient != null) {
            agentClient.close();
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static Pod pod(String name, String app) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace("default").addToLabels("app", app).endMetadata()
                .withNewSpec().withNodeName("node-a").addNewContainer().withName("echo").withImage("kube-ferry/echo")
                .addNewPort().withContainerPort(8080).endPort().endContainer().endSpec().build();
    }

    private static Service selectorService(String name, String app) {
        return new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewSpec().addToSelector("app", app).addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString(8080))
                .endPort().endSpec().build();
    }

    /** A selectorless Service on port 80 with a hand-written slice to {@code pod}'s 8080; its cluster IP. */
    private static String selectorlessService(String name, NetnsTestBed.Pod pod) {
        client.resource(new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewSpec().addNewPort().withName("p").withPort(80).withTargetPort(new IntOrString(8080)).endPort().endSpec().build())
                .create();
        client.resource(ClusterObjects.slice(name, "TCP", 8080, Ep.ready(pod.ip(), "node-a"))).create();
        return clusterIP(name);
    }

    private static String clusterIP(String service) {
        return client.services().inNamespace("default").withName(service).get().getSpec().getClusterIP();
    }

    private static String nat() throws Exception {
        return BED.exec(BED.nodeNs(), "iptables-nft-save", "-t", "nat");
    }

    @Test
    @Order(1)
    void selectorlessServiceWithAHandWrittenSlice() throws Exception {
        NetnsTestBed.Pod manual = BED.addPod("manual-1", NEXT_OCTET.getAndIncrement());
        client.resource(new ServiceBuilder().withNewMetadata().withName("manual").withNamespace("default").endMetadata()
                .withNewSpec().addNewPort().withName("p").withPort(80).withTargetPort(new IntOrString(8080)).endPort().endSpec().build())
                .create();
        client.resource(ClusterObjects.slice("manual", "TCP", 8080, Ep.ready(manual.ip(), "node-a"))).create();
        String vip = clusterIP("manual");
        assertTrue(vip.startsWith("198.19."), "the real API server allocated " + vip + " from the test range");
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("selectorless Service reachable", () -> c.tcp(vip, 80), "manual-1"::equals);
    }

    @Test
    @Order(2)
    void trafficFollowsPodsThroughTheRealEndpointSliceController() throws Exception {
        client.resource(selectorService("web", "web")).create();
        client.resource(pod("web-1", "web")).create();
        client.resource(pod("web-2", "web")).create();
        String vip = clusterIP("web");
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("both pods serve", () -> String.join(",", new java.util.TreeSet<>(answers(20, () -> c.tcp(vip, 80)))),
                "web-1,web-2"::equals);

        client.pods().inNamespace("default").withName("web-2").withGracePeriod(0).delete();
        awaitAnswer("deleted pod no longer serves", () -> String.join(",", answers(10, () -> c.tcp(vip, 80))), "web-1"::equals);

        client.resource(pod("web-3", "web")).create();
        client.pods().inNamespace("default").withName("web-1")
                .edit(p -> new PodBuilder(p).editMetadata().addToLabels("app", "retired").endMetadata().build());
        awaitAnswer("relabelled pod leaves, new pod joins", () -> String.join(",", answers(10, () -> c.tcp(vip, 80))), "web-3"::equals);
        assertEquals(Set.of("web-3"), answers(20, () -> c.tcp(vip, 80)));
    }

    @Test
    @Order(3)
    void serviceTypeChangesAreFollowedAndOldRulesGo() throws Exception {
        client.resource(selectorService("shape", "web")).create();
        NetnsTestBed.Client c = BED.client();
        String vip = clusterIP("shape");
        awaitAnswer("ClusterIP", () -> c.tcp(vip, 80), "web-3"::equals);

        client.services().inNamespace("default").withName("shape")
                .edit(s -> new ServiceBuilder(s).editSpec().withType("NodePort").endSpec().build());
        int nodePort = client.services().inNamespace("default").withName("shape").get().getSpec().getPorts().get(0).getNodePort();
        awaitAnswer("NodePort", () -> c.tcp(NetnsTestBed.NODE_EXTERNAL_IP, nodePort), "web-3"::equals);

        client.services().inNamespace("default").withName("shape")
                .edit(s -> new ServiceBuilder(s).editSpec().withType("LoadBalancer").endSpec().build());
        Service lb = client.services().inNamespace("default").withName("shape").get();
        client.resource(new ServiceBuilder(lb).withNewStatus().withNewLoadBalancer().addNewIngress().withIp("198.19.200.9").endIngress()
                .endLoadBalancer().endStatus().build()).updateStatus();
        awaitAnswer("LoadBalancer ingress IP", () -> c.tcp("198.19.200.9", 80), "web-3"::equals);
        assertTrue(nat().contains("\"default/shape:http loadbalancer IP\""));

        client.services().inNamespace("default").withName("shape").edit(s -> {
            Service back = new ServiceBuilder(s).editSpec().withType("ClusterIP").withAllocateLoadBalancerNodePorts(null).endSpec()
                    .withNewStatus().endStatus().build();
            back.getSpec().getPorts().get(0).setNodePort(null);
            return back;
        });
        awaitAnswer("NodePort rules gone", () -> nat().contains("--dport " + nodePort + " ") ? "present" : "gone", "gone"::equals);
        String rules = nat();
        assertFalse(rules.contains("198.19.200.9"), "LB rules gone");
        assertFalse(rules.contains("\"masquerade traffic for default/shape:http external destinations\""), "external chain gone");
        assertEquals("web-3", c.tcp(vip, 80), "the ClusterIP still works");
    }

    @Test
    @Order(4)
    void filteringMatchesUpstreamOnTheRealServer() throws Exception {
        client.resource(new ServiceBuilder(selectorService("mesh", "web")).editMetadata()
                .addToLabels("service.kubernetes.io/service-proxy-name", "some-mesh").endMetadata().build()).create();
        client.resource(new ServiceBuilder(selectorService("headless", "web")).editSpec().withClusterIP("None").endSpec().build()).create();
        client.resource(selectorService("marker", "web")).create();
        String marker = clusterIP("marker");
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("marker Service programmed (so earlier events were processed)", () -> c.tcp(marker, 80), "web-3"::equals);
        String rules = nat();
        assertFalse(rules.contains("default/mesh"), "a Service for another proxy is ignored");
        assertFalse(rules.contains("default/headless"), "a headless Service is ignored");
        assertFalse(rules.contains(clusterIP("mesh")), "its ClusterIP is not captured");
    }

    @Test
    @Order(5)
    void apiServerRestartKeepsTrafficFlowingAndTheAgentReconnects() throws Exception {
        NetnsTestBed.Client c = BED.client();
        String vip = clusterIP("web");
        CompletableFuture<String> traffic = CompletableFuture.supplyAsync(() -> {
            try {
                return c.ask("loop " + vip + " 80 6000 20");
            } catch (Exception e) {
                return "ERROR " + e;
            }
        });
        CONTROL_PLANE.controlPlane().stopApiServer();
        Thread.sleep(2000);
        CONTROL_PLANE.controlPlane().startApiServer();
        String result = traffic.get(30, TimeUnit.SECONDS);
        assertTrue(result.startsWith("ok ") && result.contains(" failed 0"), "rules stayed while the API server was down: " + result);

        client.resource(selectorService("after-restart", "web")).create();
        String after = clusterIP("after-restart");
        awaitAnswer("the agent reconnected and sees new Services", () -> c.tcp(after, 80), "web-3"::equals);
    }

    @Test
    @Order(6)
    void anExpiredWatchIsRecoveredByRelisting() throws Exception {
        // Move etcd's revision on, compact it, and restart the API server: the agent's watches resume from
        // revisions that no longer exist (410 Gone) and must relist.
        for (int i = 0; i < 20; i++) {
            client.resource(new ConfigMapBuilder().withNewMetadata().withName("churn-" + i).withNamespace("default").endMetadata()
                    .addToData("i", String.valueOf(i)).build()).create();
        }
        CONTROL_PLANE.controlPlane().stopApiServer();
        CONTROL_PLANE.controlPlane().compactEtcd();
        CONTROL_PLANE.controlPlane().startApiServer();
        client.resource(selectorService("after-410", "web")).create();
        String vip = clusterIP("after-410");
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("a Service created after the expired watch is programmed", () -> c.tcp(vip, 80), "web-3"::equals);
    }

    @Test
    @Order(7)
    void anAgentStartedBeforeTheApiServerWaitsAndConvergesToChangesMadeWhileAway() throws Exception {
        BedAgent.stop(agent);
        client.resource(selectorService("while-away", "web")).create();
        String vip = clusterIP("while-away");
        CONTROL_PLANE.controlPlane().stopApiServer();
        agent = startAgent();
        Thread.sleep(2000);
        assertEquals(0, agent.successfulSyncs(), "no sync before the initial lists are in");
        CONTROL_PLANE.controlPlane().startApiServer();
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("the new agent converged", () -> c.tcp(vip, 80), "web-3"::equals);
        assertTrue(agent.successfulSyncs() > 0);
    }

    @Test
    @Order(8)
    void anOutageWhileTheWatchesAreOpenIsOneWarnAndOneInfo() throws Exception {
        // A change programmed through the watches: they are open when the API server goes. Selectorless
        // Services with hand-written slices, so the controller manager's own reconnects do not matter.
        NetnsTestBed.Pod pod = BED.addPod("outage-1", NEXT_OCTET.getAndIncrement());
        String before = selectorlessService("before-outage", pod);
        NetnsTestBed.Client c = BED.client();
        awaitAnswer("a Service created before the outage is programmed", () -> c.tcp(before, 80), "outage-1"::equals);
        // ApiOutage is package-private; its logger is what the outage's two lines go to.
        try (LogCapture log = new LogCapture(Class.forName("io.kubeferry.proxy.watch.ApiOutage"))) {
            CONTROL_PLANE.controlPlane().stopApiServer();
            Thread.sleep(20_000);
            List<String> warnsWhileDown = log.lines(Level.WARN);
            List<String> infosWhileDown = log.lines(Level.INFO);
            CONTROL_PLANE.controlPlane().startApiServer();
            String after = selectorlessService("after-outage", pod);
            awaitAnswer("a Service created after the outage is programmed", () -> c.tcp(after, 80), "outage-1"::equals);
            awaitAnswer("the outage's INFO", () -> String.join("\n", log.lines(Level.INFO)), lines -> !lines.isEmpty());
            for (ILoggingEvent e : log.events()) {
                System.out.println("captured: " + e.getLevel() + " " + e.getFormattedMessage());
            }
            assertEquals(1, warnsWhileDown.size(), "one WARN while the API server is down: " + warnsWhileDown);
            assertTrue(warnsWhileDown.get(0).startsWith("API server unreachable: ") && warnsWhileDown.get(0).contains("Connection refused")
                    && warnsWhileDown.get(0).contains("backoff"), warnsWhileDown.get(0));
            assertEquals(List.of(), infosWhileDown, "no INFO while it is still down");
            assertEquals(warnsWhileDown, log.lines(Level.WARN), "no other WARN after the restart");
            List<String> infos = log.lines(Level.INFO);
            assertEquals(1, infos.size(), infos.toString());
            assertTrue(infos.get(0).startsWith("API server reachable again after "), infos.get(0));
            assertTrue(log.events().stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
                    .allMatch(e -> e.getThrowableProxy() == null), "no stack trace at INFO or WARN");
        }
    }

    /**
     * The API server's default ServiceCIDR (made from --service-cluster-ip-range) and one created later reach the
     * state the agent programs (iptables mode ignores them, as upstream's; nftables mode writes its drop rule).
     */
    @Test
    @Order(9)
    void theClustersServiceCIDRsReachTheState() throws Exception {
        awaitAnswer("the default ServiceCIDR in the state", RealApiServerTest::serviceCIDRs, ControlPlane.SERVICE_CIDR::equals);
        // Inside the default one: ServiceCIDRs may overlap, and the test keeps to its address range.
        client.resource(new ServiceCIDRBuilder().withNewMetadata().withName("extra").endMetadata().withNewSpec()
                .withCidrs("198.19.128.0/24").endSpec().build()).create();
        try {
            awaitAnswer("the new ServiceCIDR in the state", RealApiServerTest::serviceCIDRs,
                    (ControlPlane.SERVICE_CIDR + ",198.19.128.0/24")::equals);
        } finally {
            client.network().v1().serviceCIDRs().withName("extra").delete();
        }
    }

    private static String serviceCIDRs() {
        return String.join(",", agent.lastState().serviceCIDRs().stream().map(Object::toString).toList());
    }
}
