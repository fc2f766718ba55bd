package io.kubeferry.it;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.kubeferry.proxy.watch.ApiReachability;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The agent as the real-kernel tests run it: in this JVM, as node-a, programming the bed's node namespace. */
public final class BedAgent {

    private BedAgent() {
    }

    /**
     * Upstream defaults, but for the node, the namespace, the pod CIDR (a dual-stack bed's pair: IPv4 first, as a
     * cluster whose primary family is IPv4 has it) and HTTP on free loopback ports.
     */
    public static ProxyConfig config(NetnsTestBed bed) {
        List<String> podCIDRs = bed.ipv6() ? List.of(NetnsTestBed.POD_CIDR, NetnsTestBed.POD_CIDR6) : List.of(NetnsTestBed.POD_CIDR);
        return ProxyConfig.defaults().withHostnameOverride("node-a").withNetns(bed.nodeNs()).withClusterCIDRs(podCIDRs)
                .withBindAddresses("127.0.0.1:0", "127.0.0.1:0");
    }

    /** The same with a short minSyncPeriod, so functional tests wait less. */
    public static ProxyConfig quick(NetnsTestBed bed) {
        return config(bed).withSyncPeriods(Duration.ofSeconds(30), Duration.ofMillis(100));
    }

    public static Agent start(ProxyConfig config, KubernetesClient client, Vertx vertx, NetnsTestBed bed) throws Exception {
        return Agent.start(config, client, vertx, new ProcessToolRunner(bed.nodeNs()))
                .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** The same for a client built with {@code reachability} (the agent's own wiring, see Main.client). */
    public static Agent start(ProxyConfig config, KubernetesClient client, ApiReachability reachability, Vertx vertx,
            NetnsTestBed bed) throws Exception {
        return Agent.start(config, client, reachability, vertx, new ProcessToolRunner(bed.nodeNs()))
                .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    public static void stop(Agent agent) throws Exception {
        if (agent != null) {
            agent.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
