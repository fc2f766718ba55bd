package io.kubeferry.it;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.config.ProxyConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.kubeferry.it.ClusterObjects.nodePort;
import static io.kubeferry.it.ClusterObjects.service;
import static io.kubeferry.it.ClusterObjects.slice;
import static io.kubeferry.it.Traffic.awaitAnswer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Localhost NodePorts and the nfacct counters on a real kernel, as upstream kube-proxy programs them: a client
 * inside the node namespace itself connects to 127.0.0.1:NodePort. With {@code iptables.localhostNodePorts}
 * off it is refused (nothing listens there and no rule DNATs it) while the NodePort still answers on the node's
 * own address; with it on it reaches the pod. Then, where the kernel and the node have nfacct, the counters
 * exist in the node namespace and feed the metrics.
 */
@EnableKubernetesMockClient(crud = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalhostNodePortTest {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    private static final int NODE_PORT = 30180;

    static KubernetesClient client;
    static KubernetesMockServer server;

    private static Vertx vertx;
    private static Agent agent;

    @BeforeAll
    static void objects() throws Exception {
        NetnsTestBed.Pod pod = BED.addPod("pod-1", 11);
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().build()).create();
        client.resource(nodePort("web", "198.19.0.10", 80, 8080, NODE_PORT, false)).create();
        client.resource(slice("web", "TCP", 8080, Ep.ready(pod.ip(), "node-a"))).create();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        BedAgent.stop(agent);
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(1)
    void withLocalhostNodePortsOffLoopbackIsRefused() throws Exception {
        ProxyConfig config = BedAgent.quick(BED);
        ProxyConfig.Iptables ipt = config.iptables();
        agent = BedAgent.start(config.withIptables(new ProxyConfig.Iptables(ipt.masqueradeAll(), ipt.masqueradeBit(), false,
                ipt.syncPeriod(), ipt.minSyncPeriod())), client, vertx, BED);
        NetnsTestBed.Client outside = BED.client();
        awaitAnswer("NodePort on the node's address", () -> outside.tcp(NetnsTestBed.NODE_EXTERNAL_IP, NODE_PORT), "pod-1"::equals);

        assertEquals("REFUSED", fromNode("127.0.0.1", NODE_PORT), "no localhost NodePort when the setting is off");
        assertEquals("0", sysctl("net.ipv4.conf.all.route_localnet"), "route_localnet is left alone, as upstream does");
        String filter = BED.exec(BED.nodeNs(), "iptables-nft-save", "-t", "filter");
        assertTrue(filter.contains(":KUBE-FIREWALL - [0:0]") && filter.contains("-A INPUT -j KUBE-FIREWALL"), filter);
        assertFalse(filter.contains("block incoming localnet connections"), filter);
        String nat = BED.exec(BED.nodeNs(), "iptables-nft-save", "-t", "nat");
        assertTrue(nat.contains("-A KUBE-SERVICES ! -d 127.0.0.0/8 -m comment --comment \"kubernetes service nodeports; NOTE: this must "
                + "be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"), nat);
        BedAgent.stop(agent);
        agent = null;
    }

    @Test
    @Order(2)
    void withLocalhostNodePortsOnLoopbackReachesThePod() throws Exception {
        agent = BedAgent.start(BedAgent.quick(BED), client, vertx, BED);
        awaitAnswer("localhost NodePort", () -> fromNode("127.0.0.1", NODE_PORT), "pod-1"::equals);
        assertEquals("1", sysctl("net.ipv4.conf.all.route_localnet"));
        String filter = BED.exec(BED.nodeNs(), "iptables-nft-save", "-t", "filter");
        // As iptables-save prints upstream's (and kubelet's) rule.
        assertTrue(filter.contains("-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming localnet "
                + "connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP"), filter);
        assertEquals(1, filter.lines().filter("-A INPUT -j KUBE-FIREWALL"::equals).count(), filter);
        assertEquals(1, filter.lines().filter("-A OUTPUT -j KUBE-FIREWALL"::equals).count(), filter);
    }

    @Test
    @Order(3)
    void nfacctCountersExistAndFeedTheMetrics() throws Exception {
        NetnsTestBed.Result tool = NetnsTestBed.run(List.of("ip", "netns", "exec", BED.nodeNs(), "nfacct", "list"));
        assumeTrue(tool.exit() == 0, "this node has no usable nfacct (tool or kernel): " + tool.output());
        assertTrue(tool.output().contains("= ct_state_invalid_dropped_pkts;"), tool.output());
        assertTrue(tool.output().contains("= localhost_nps_accepted_pkts;"), tool.output());
        String filter = BED.exec(BED.nodeNs(), "iptables-nft-save", "-t", "filter");
        assertTrue(filter.lines().anyMatch(l -> l.startsWith("-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name")
                && l.endsWith("ct_state_invalid_dropped_pkts -j DROP")), filter);

        // Connections to 127.0.0.1:NodePort count; the metric shows the count as of the next sync.
        assertEquals("pod-1", fromNode("127.0.0.1", NODE_PORT));
        int before = agent.successfulSyncs();
        client.resource(service("other", "198.19.0.20", "TCP", 80, 8080).build()).create();
        long deadline = System.currentTimeMillis() + 20_000;
        while (agent.successfulSyncs() == before && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(agent.successfulSyncs() > before, "a sync ran after the change");
        FunctionCounter accepted = agent.registry().find("kubeproxy.iptables.localhost.nodeports.accepted.packets").functionCounter();
        assertNotNull(accepted, "the localhost NodePort metric is registered");
        assertTrue(accepted.count() >= 1, "localhost NodePort connections were counted: " + accepted.count());
        String scraped = agent.registry().scrape();
        assertTrue(scraped.contains("\nkubeproxy_iptables_ct_state_invalid_dropped_packets_total "), scraped);
        assertTrue(scraped.contains("\nkubeproxy_iptables_localhost_nodeports_accepted_packets_total "), scraped);
    }

    /** One TCP connection from inside the node namespace: the first line the server sends, or REFUSED/TIMEOUT. */
    private static String fromNode(String host, int port) throws Exception {
        NetnsTestBed.Result r = NetnsTestBed.run(List.of("ip", "netns", "exec", BED.nodeNs(), "timeout", "3", "bash", "-c",
                "exec 3<>/dev/tcp/" + host + "/" + port + " && head -n 1 <&3"));
        if (r.output().contains("Connection refused")) {
            return "REFUSED";
        }
        return r.exit() == 124 ? "TIMEOUT" : r.output().strip();
    }

    private static String sysctl(String key) throws Exception {
        return BED.exec(BED.nodeNs(), "sysctl", "-n", key).strip();
    }
}
