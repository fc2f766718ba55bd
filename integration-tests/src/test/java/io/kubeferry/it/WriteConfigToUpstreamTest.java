package io.kubeferry.it;

import io.kubeferry.it.controlplane.ControlPlane;
import io.kubeferry.proxy.testing.DocumentLeaves;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * kube-proxy 1.35.4 and the shipped kube-ferry jar, given the same flags or the same file, write the same
 * KubeProxyConfiguration with {@code --write-config-to}, field by field, but where a difference is listed with its
 * reason. Neither needs root: both only write the file and exit.
 */
class WriteConfigToUpstreamTest {

    private static final Path JAR = Path.of("..", "dist", "target", "kube-ferry.jar").toAbsolutePath().normalize();

    private static Path kubeProxy;

    @BeforeAll
    static void programs() {
        kubeProxy = ControlPlane.provisioned().map(d -> d.resolve("kube-proxy")).orElse(Path.of("kube-proxy"));
        assumeTrue(Files.isExecutable(kubeProxy), "no upstream kube-proxy at " + kubeProxy
                + ": run integration-tests/control-plane/provision.sh (dev/setup.sh does)");
        assumeTrue(Files.isRegularFile(JAR), "the shipped jar is built first (mvn -pl integration-tests -am verify): " + JAR);
    }

    @Test
    void theSameFlagsWriteTheSameConfiguration(@TempDir Path dir) throws Exception {
        String recorded = resource("/kube-proxy-1.35-write-config-to-flags.yaml");
        List<String> flags = List.of(recorded.lines().skip(1).findFirst().orElseThrow().substring(2).split(" "));
        Map<String, String> theirs = DocumentLeaves.of(kubeProxy(dir, flags));
        assertEquals(DocumentLeaves.of(recorded), theirs, "the recorded output (proxy's unit tests compare with it) is kube-proxy's");
        Map<String, String> ours = DocumentLeaves.of(kubeFerry(dir, flags));
        assertEquals(theirs.keySet(), ours.keySet());
        // Upstream writes only the active mode's sync period (0s for the other); kube-ferry keeps what was given.
        assertEquals(Map.of("/iptables/syncPeriod", "0s -> 1m30s"), DocumentLeaves.differing(theirs, ours));
    }

    @Test
    void theSameFullFileWritesTheSameConfiguration(@TempDir Path dir) throws Exception {
        // The golden file with every field set, less what kube-proxy's validation refuses and kube-ferry accepts
        // without acting on it: logging options behind alpha gates, vmodule with JSON logs, "primary" beside CIDRs,
        // a showHiddenMetricsForVersion other than the previous minor release.
        String full = replaced(resource("/KubeProxyConfiguration/after/full.yaml"),
                "  OtherGate: false\n  SomeGate: true\n", "  LoggingAlphaOptions: true\n  LoggingBetaOptions: true\n",
                "  format: json\n", "  format: text\n",
                "- primary\n", "- 198.18.1.0/24\n",
                "showHiddenMetricsForVersion: \"1.34\"\n", "showHiddenMetricsForVersion: \"\"\n");
        Path file = dir.resolve("full.yaml");
        Files.writeString(file, full);
        List<String> flags = List.of("--config=" + file);
        Map<String, String> theirs = DocumentLeaves.of(kubeProxy(dir, flags));
        Map<String, String> ours = DocumentLeaves.of(kubeFerry(dir, flags));
        assertEquals(DocumentLeaves.of(full), ours, "kube-ferry writes the file it read");
        assertEquals(Map.of(
                // Upstream keeps only the active mode's (ipvs) periods and nftables settings.
                "/iptables/syncPeriod", "0s -> 1m30s",
                "/nftables/masqueradeAll", "false -> true",
                "/nftables/minSyncPeriod", "0s -> 1s",
                "/nftables/syncPeriod", "0s -> 1m0s",
                // Upstream clears the deprecated, unused portRange.
                "/portRange", " -> 30000-32767",
                // kube-proxy 1.35.4 reads splitStream and does not write it back.
                "/logging/options/json/splitStream", "null -> true",
                "/logging/options/text/splitStream", "null -> true"), DocumentLeaves.differing(theirs, ours));
    }

    private static String kubeProxy(Path dir, List<String> flags) throws IOException, InterruptedException {
        Path out = dir.resolve("kube-proxy.yaml");
        List<String> argv = new ArrayList<>(List.of(kubeProxy.toString()));
        argv.addAll(flags);
        argv.add("--write-config-to=" + out);
        NetnsTestBed.Result run = NetnsTestBed.run(argv);
        assertEquals(0, run.exit(), run.output());
        return Files.readString(out);
    }

    private static String kubeFerry(Path dir, List<String> flags) throws Exception {
        Path out = dir.resolve("kube-ferry.yaml");
        List<String> args = new ArrayList<>(flags);
        args.add("--write-config-to=" + out);
        CleanupNetnsTest.Run run = CleanupNetnsTest.jar(List.of(), args.toArray(String[]::new));
        assertEquals(0, run.exit(), run.out() + run.err());
        return Files.readString(out);
    }

    private static String replaced(String text, String... pairs) {
        for (int i = 0; i < pairs.length; i += 2) {
            assertEquals(true, text.contains(pairs[i]), "the golden full.yaml no longer holds " + pairs[i].strip());
            text = text.replace(pairs[i], pairs[i + 1]);
        }
        return text;
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = WriteConfigToUpstreamTest.class.getResourceAsStream(name)) {
            assertEquals(true, in != null, name + " (from kube-ferry-proxy's test-jar)");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
