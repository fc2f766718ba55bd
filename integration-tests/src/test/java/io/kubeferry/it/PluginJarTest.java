package io.kubeferry.it;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.kubeferry.it.ClusterObjects.Ep;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.kubeferry.it.ClusterObjects.service;
import static io.kubeferry.it.ClusterObjects.slice;
import static io.kubeferry.it.Traffic.awaitAnswer;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A third party's plugin, as a user adds it: the shipped jar and the example plugin's jar on one class path
 * ({@code java -cp kube-ferry.jar:kube-ferry-example-plugin.jar io.kubeferry.proxy.cli.Main run ...}), nothing of
 * kube-ferry rebuilt. The agent (against a mock API server, programming the bed's node namespace) names the plugin's
 * hook among its hooks, calls it after a sync that removes an endpoint, and exports its metrics.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class PluginJarTest {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    static KubernetesClient client;
    static KubernetesMockServer server;

    private static final Path JAR = Path.of("..", "dist", "target", "kube-ferry.jar").toAbsolutePath().normalize();
    private static final Path PLUGIN = Path.of("..", "example-plugin", "target", "kube-ferry-example-plugin.jar").toAbsolutePath()
            .normalize();

    @Test
    void theExamplePluginsHookLoadsFromItsJarAndSeesARemoval() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "the shipped jar is built first: " + JAR);
        assumeTrue(Files.isRegularFile(PLUGIN), "the example plugin's jar is built first: " + PLUGIN);
        Path dir = Files.createTempDirectory("kube-ferry-plugin-");
        Path kubeconfig = dir.resolve("kubeconfig");
        Files.writeString(kubeconfig, ClusterObjects.mockKubeconfig("http://127.0.0.1:" + server.getPort()));
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().build()).create();
        client.resource(service("web", "198.19.0.10", "TCP", 80, 8080).build()).create();
        client.resource(slice("web", "TCP", 8080, Ep.ready("198.18.0.11", "node-a"), Ep.ready("198.18.0.12", "node-b"))).create();

        int metricsPort = freePort();
        Path log = dir.resolve("agent.log");
        List<String> argv = List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx128m", "-XX:TieredStopAtLevel=1",
                "-cp", JAR + ":" + PLUGIN, "io.kubeferry.proxy.cli.Main", "run", "--netns", BED.nodeNs(), "--kubeconfig",
                kubeconfig.toString(), "--hostname-override", "node-a", "--cluster-cidr", NetnsTestBed.POD_CIDR,
                "--iptables-min-sync-period", "100ms", "--metrics-bind-address", "127.0.0.1:" + metricsPort,
                "--healthz-bind-address", "127.0.0.1:" + freePort());
        Process agent = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            awaitAnswer("the agent names the plugin's hook", () -> Files.readString(log),
                    l -> l.lines().anyMatch(line -> line.contains("conntrack hooks: ") && line.contains("example-removals")));
            // The same jar's scheduler is offered by the running agent too (PluginSchedulerRenderTest shows it in force).
            awaitAnswer("the agent loads the plugin's scheduler", () -> Files.readString(log),
                    l -> l.contains("scheduler plugin \"weighted\" loaded from io.kubeferry.example.schedulers.Weighted"));
            // Called once per family the node runs (IPv4 and, on an IPv6-capable node, IPv6): any call is the first sync.
            awaitAnswer("the first sync", () -> metrics(metricsPort),
                    m -> m.lines().anyMatch(l -> l.startsWith("kubeferry_conntrack_hook_duration_seconds_count{hook=\"example-removals\"} ")
                            && !l.endsWith(" 0")));

            client.resource(slice("web", "TCP", 8080, Ep.ready("198.18.0.11", "node-a"))).update();
            String line = awaitAnswer("the plugin's hook saw the removal", () -> Files.readString(log),
                    l -> l.contains("endpoint removed: default/web:p tcp 198.18.0.12:8080 (was ready)"));
            assertTrue(line.contains("EndpointRemovalLog - endpoint removed"), "logged under the plugin's logger: " + line);
            String metrics = awaitAnswer("the plugin's counter", () -> metrics(metricsPort),
                    m -> m.contains("kubeferry_example_endpoint_removals_total 1.0"));
            assertTrue(metrics.contains("kubeferry_conntrack_hook_failures_total{hook=\"example-removals\"} 0.0"), metrics);
            System.out.println("plugin jar: " + Files.readString(log).lines().filter(l -> l.contains("conntrack hooks: ")
                    || l.contains("endpoint removed: ")).toList());
        } finally {
            agent.destroy();
            if (!agent.waitFor(20, TimeUnit.SECONDS)) {
                agent.destroyForcibly();
                agent.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static String metrics(int port) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return "not up: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
