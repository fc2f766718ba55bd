package io.kubeferry.it.peer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kube-ferry's JVM settings in the benchmarks come from the shipped manifest and options file. */
class ShippedJvmTest {

    private static final String DAEMONSET = """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: kube-ferry}
            spec:
              selector: {matchLabels: {k8s-app: kube-ferry}}
              template:
                spec:
                  containers:
                    - name: kube-ferry
                      image: kube-ferry:0.1.0
                      env:
                        - {name: NODE_NAME, value: x}
                        - {name: JAVA_TOOL_OPTIONS, value: -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError}
                      resources:
                        limits: {memory: 768Mi}
            """;

    @Test
    void theDaemonSetsOptionsAndItsMemoryLimitAsTheJvmsRam(@TempDir Path dir) throws Exception {
        Path ds = Files.writeString(dir.resolve("daemonset.yaml"), DAEMONSET);
        ShippedJvm jvm = ShippedJvm.read(dir.resolve("none.options"), ds);
        assertEquals(List.of("-XX:MaxRAM=805306368"), jvm.arguments());
        assertEquals(Optional.of("-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"), jvm.environment().values().stream().findFirst());
    }

    @Test
    void theImagesOptionsFileWhenThereIsOne(@TempDir Path dir) throws Exception {
        Path ds = Files.writeString(dir.resolve("daemonset.yaml"), DAEMONSET.replace("limits: {memory: 768Mi}", "requests: {memory: 1Mi}"));
        Path options = Files.writeString(dir.resolve("jvm.options"), "# heap\n-Xmx96m\n\n-XX:+UseSerialGC\n");
        ShippedJvm jvm = ShippedJvm.read(options, ds);
        assertEquals(List.of("@" + options), jvm.arguments());
        assertTrue(jvm.description().contains("(-Xmx96m -XX:+UseSerialGC)"), jvm.description());
    }

    @Test
    void theImagesArchiveGoesAfterTheOptionsFile(@TempDir Path dir) throws Exception {
        Path ds = Files.writeString(dir.resolve("daemonset.yaml"), DAEMONSET);
        Path options = Files.writeString(dir.resolve("jvm.options"), "-XX:+UseSerialGC\n");
        ShippedJvm jvm = ShippedJvm.read(options, ds).withArchive(dir.resolve("a.jsa"));
        assertEquals(List.of("-XX:MaxRAM=805306368", "@" + options, "-XX:SharedArchiveFile=" + dir.resolve("a.jsa")), jvm.arguments());
    }

    @Test
    void theRepositorysOwnManifestReads() throws Exception {
        ShippedJvm jvm = ShippedJvm.read(ShippedJvm.OPTIONS_FILE, ShippedJvm.DAEMONSET);
        assertTrue(jvm.arguments().stream().anyMatch(a -> a.startsWith("-XX:MaxRAM=") || a.startsWith("@")), jvm.toString());
    }
}
