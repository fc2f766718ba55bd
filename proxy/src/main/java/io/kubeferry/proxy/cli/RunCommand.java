package io.kubeferry.proxy.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.conntrack.ConntrackSysctls;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.NodeFamilies;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

@Command(name = "run", description = "Run the node agent (the default). Takes every kube-proxy 1.35 flag.")
final class RunCommand implements Callable<Integer> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RunCommand.class);

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
        // (ListWarmUp); the client itself (Vert.x, the kubeconfig, its TLS context: a few hundred ms of cold code)
        // is built on a thread of its own at the same time. Neither needs the other and the lists wait on both;
        // a failed kernel check is still the error reported first, a bad kubeconfig only after the checks passed.
        KubernetesSerialization serialization = new KubernetesSerialization();
        ListWarmUp.start(serialization);
        CompletableFuture<Connection> connecting = CompletableFuture.supplyAsync(() -> Connection.open(config, serialization), task -> {
            Thread connect = new Thread(task, "kube-ferry-connect");
            connect.setDaemon(true);
            connect.start();
        });
        java.util.Set<io.kubeferry.proxy.model.IpFamily> families;
        try {
            // Each IP family the mode programs is checked (tools, then the kernel); one that cannot run is logged and
            // skipped, as upstream runs a single family on a node without the other. None left is fatal, with IPv4's
            // reason as before dual-stack.
            NodeFamilies checked = NodeFamilies.probe(DataplaneProvider.forMode(config.mode()),
                    new DataplaneContext(config, tools, new SimpleMeterRegistry()));
            checked.logSkipped(LOG);
            families = checked.requireOne().running().keySet();
        } catch (Exception e) {
            connecting.thenAccept(Connection::close); // the agent does not start: nothing stays connected for it
            throw e;
        }
        Connection connection;
        try {
            connection = connecting.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        Vertx vertx = connection.vertx();
        KubernetesClient client = connection.client();
        Agent agent = Agent.start(config, client, connection.reachability(), vertx, tools, families)
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

    /** The agent's Vert.x and the API client that runs on it. */
    private record Connection(Vertx vertx, ApiReachability reachability, KubernetesClient client) {

        static Connection open(ProxyConfig config, KubernetesSerialization serialization) {
            Vertx vertx = Vertx.vertx(vertxOptions());
            try {
                ApiReachability reachability = new ApiReachability();
                return new Connection(vertx, reachability, Main.client(config, reachability, vertx, serialization));
            } catch (RuntimeException e) {
                vertx.close();
                throw e;
            }
        }

        void close() {
            client.close();
            vertx.close();
        }
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
