package io.kubeferry.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The example plugin's scheduler as a user adds it: the shipped jar and the plugin's jar on one class path, nothing of
 * kube-ferry rebuilt, and {@code render --mode iptables} (no root, no kernel) shows the plugin's {@code weighted}
 * algorithm in force, in the header and in the rules: a 3:1 weight is a 0.75 statistic probability, and with the
 * {@code rr} flag an nth cascade over the four slots. The shipped jar alone falls back, saying why.
 */
class PluginSchedulerRenderTest {

    private static final Path JAR = Path.of("..", "dist", "target", "kube-ferry.jar").toAbsolutePath().normalize();
    private static final Path PLUGIN = Path.of("..", "example-plugin", "target", "kube-ferry-example-plugin.jar").toAbsolutePath()
            .normalize();

    private static final String OBJECTS = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
              annotations: {kube-ferry.io/scheduler: weighted, kube-ferry.io/weights: "198.18.0.11=3"}
            spec: {clusterIP: 198.19.0.10, ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: api
              namespace: shop
              annotations: {kube-ferry.io/scheduler: weighted, kube-ferry.io/scheduler-flags: rr, kube-ferry.io/weights: "198.18.0.11=3"}
            spec: {clusterIP: 198.19.0.11, ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]}
            """ + slice("web") + slice("api");

    private static String slice(String service) {
        return """
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: %1$s-1, namespace: shop, labels: {kubernetes.io/service-name: %1$s}}
                addressType: IPv4
                ports: [{name: http, port: 8080, protocol: TCP}]
                endpoints:
                - {addresses: [198.18.0.11], conditions: {ready: true}}
                - {addresses: [198.18.0.12], conditions: {ready: true}}
                """.formatted(service);
    }

    @Test
    void thePluginsAlgorithmIsInForceFromItsJarAlone(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "the shipped jar is built first: " + JAR);
        assumeTrue(Files.isRegularFile(PLUGIN), "the example plugin's jar is built first: " + PLUGIN);
        Path objects = Files.writeString(dir.resolve("objects.yaml"), OBJECTS);

        String out = render(JAR + ":" + PLUGIN, objects, dir);
        List<String> header = out.lines().filter(l -> l.startsWith("#   ")).toList();
        assertEquals(List.of("#   shop/api:http tcp: weighted rr (annotation)", "#   shop/web:http tcp: weighted (annotation)"), header);
        List<String> web = chainRules(out, "shop/web:http -> ");
        assertEquals(2, web.size(), web.toString());
        assertTrue(web.get(0).contains("198.18.0.11:8080") && web.get(0).contains("--mode random --probability 0.7500000000"), web.get(0));
        assertTrue(web.get(1).contains("198.18.0.12:8080") && !web.get(1).contains("statistic"), web.get(1));
        List<String> api = chainRules(out, "shop/api:http -> ");
        // Smooth weighted round robin: slots .11, .11, .12, .11 as an nth cascade (every 4, 3, 2, then the rest).
        assertEquals(4, api.size(), api.toString());
        assertTrue(api.get(0).contains("198.18.0.11:8080") && api.get(0).contains("--mode nth --every 4 --packet 0"), api.get(0));
        assertTrue(api.get(2).contains("198.18.0.12:8080") && api.get(2).contains("--every 2"), api.get(2));
        System.out.println("plugin scheduler render: " + header);

        String without = render(JAR.toString(), objects, dir);
        assertTrue(without.contains("#   shop/web:http tcp: random (fallback: scheduler \"weighted\" is not available on this node; "
                + "using \"random\")"), without);
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "unreadable: " + e;
        }
    }

    /** The rules of the Service chain (KUBE-SVC-*) that jump to an endpoint of {@code prefix}, in order. */
    private static List<String> chainRules(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith("-A KUBE-SVC-") && l.contains("\"" + prefix)).toList();
    }

    private static String render(String classPath, Path objects, Path dir) throws Exception {
        List<String> argv = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx128m",
                "-XX:TieredStopAtLevel=1", "-cp", classPath, "io.kubeferry.proxy.cli.Main", "render", "--mode", "iptables",
                "--hostname-override", "node-a", "-f", objects.toString()));
        Path err = dir.resolve("render.err");
        Process render = new ProcessBuilder(argv).redirectError(err.toFile()).start();
        String out = new String(render.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!render.waitFor(60, TimeUnit.SECONDS)) {
            render.destroyForcibly();
        }
        assertEquals(0, render.exitValue(), () -> out + "\nstderr:\n" + readQuietly(err));
        return out;
    }
}
