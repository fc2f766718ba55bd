package io.kubeferry.proxy.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.conntrack.ConntrackSysctls;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.kubeferry.proxy.exec.RequiredTools;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.watch.ApiReachability;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "run", description = "Run the node agent (the default). Takes every kube-proxy 1.35 flag.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws Exception {
        ProxyConfig config = options.resolve();
        // One lookup and one runner for the start-up checks and the agent, so each tool is found once and the
        // tool the check found is the one that runs.
        RequiredTools lookup = RequiredTools.fromEnvironment();
        ToolRunner tools = new ProcessToolRunner(config.netns(), lookup);
        // What kube-proxy does at start with root privileges; --init-only stops after it.
        OomScoreAdj.self().apply(config.oomScoreAdj());
        ConntrackSysctls.forNode(tools, config.netns()).apply(config.conntrack());
        if (config.mode().equals("ipvs")) {
            IpvsTimeouts.apply(tools, config.ipvs());
        }
        if (Boolean.TRUE.equals(options.initOnly)) {
            return 0;
        }
        // The client's serialization first, so the model's deserializers are built while the kernel is checked
        // (ListWarmUp); the client itself, which reads the kubeconfig, only once the checks passed.
        KubernetesSerialization serialization = new KubernetesSerialization();
        ListWarmUp.start(serialization);
        DataplaneProvider provider = DataplaneProvider.forMode(config.mode());
        lookup.require(config.mode(), provider.requiredTools());
        provider.create(new DataplaneContext(config, tools, new SimpleMeterRegistry())).checkKernel();
        Vertx vertx = Vertx.vertx(vertxOptions());
        ApiReachability reachability = new ApiReachability();
        KubernetesClient client = Main.client(config, reachability, vertx, serialization);
        Agent agent = Agent.start(config, client, reachability, vertx, tools)
                .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                agent.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // Shutting down anyway; the rules stay in the kernel by design.
            }
            client.close();
            vertx.close();
            done.countDown();
        }, "kube-ferry-shutdown"));
        done.await();
        return 0;
    }

    /**
     * The agent and its Kubernetes client share this one Vert.x. Vert.x sizes its event-loop pool at twice the
     * cores (128 on a 64-core node), each loop with its own selector and Netty buffer cache; the agent's state
     * lives on one context and the rest is a handful of HTTP connections (API watches, /metrics, /healthz,
     * health-check node ports), so two loops are plenty: the watches and the agent's context can still be on
     * different threads. (Worker threads start only when used, so their pool size costs nothing idle.)
     */
    static VertxOptions vertxOptions() {
        return new VertxOptions().setEventLoopPoolSize(2);
    }
}
