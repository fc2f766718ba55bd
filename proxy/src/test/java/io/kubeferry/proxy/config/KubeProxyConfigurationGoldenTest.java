package io.kubeferry.proxy.config;

import io.kubeferry.proxy.testing.DocumentLeaves;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Round trips in the style of upstream's scheme testdata (k8s.io/kubernetes pkg/proxy/apis/config/scheme/testdata/
 * KubeProxyConfiguration/{before,after}): each {@code before/X.yaml}, read and written with {@code --write-config-to}'s
 * writer, is {@code after/X.yaml}. {@code defaults}: the empty document gives the defaults; {@code full}: every field
 * set to other than its default comes out as it went in. Run with -Dkubeferry.updateGolden=true to rewrite the
 * after files, then review the diff.
 */
class KubeProxyConfigurationGoldenTest {

    private static final Path DIR = Path.of("src/test/resources/KubeProxyConfiguration");
    private static final Path UPSTREAM = Path.of(System.getProperty("user.home"),
            "go/pkg/mod/k8s.io/kubernetes@v1.35.4/pkg/proxy/apis/config/scheme/testdata/KubeProxyConfiguration");

    @ParameterizedTest
    @ValueSource(strings = {"defaults", "full"})
    void beforeReadAndWrittenIsAfter(String name) throws Exception {
        String written = KubeProxyConfigurationWriter.yaml(KubeProxyConfigurationLoader.load(DIR.resolve("before/" + name + ".yaml")));
        Path after = DIR.resolve("after/" + name + ".yaml");
        if (Boolean.getBoolean("kubeferry.updateGolden")) {
            Files.writeString(after, written);
        }
        assertEquals(Files.readString(after), written, "golden file " + after);
        assertEquals(written, KubeProxyConfigurationWriter.yaml(KubeProxyConfigurationLoader.parse(written)),
                "what is written is a fixed point");
    }

    @Test
    void aFullFileComesOutAsItWentIn() throws IOException {
        assertEquals(Files.readString(DIR.resolve("before/full.yaml")), Files.readString(DIR.resolve("after/full.yaml")));
    }

    @Test
    void theFullFileSetsEveryFieldToOtherThanItsDefault() throws IOException {
        Map<String, String> full = DocumentLeaves.of(Files.readString(DIR.resolve("after/full.yaml")));
        Map<String, String> defaults = DocumentLeaves.of(Files.readString(DIR.resolve("after/defaults.yaml")));
        for (String field : defaults.keySet()) {
            if (!field.equals("/apiVersion") && !field.equals("/kind") && !field.equals("/detectLocalMode")) {
                boolean list = full.containsKey(field + "/0");
                assertEquals(true, list || full.containsKey(field) && !full.get(field).equals(defaults.get(field)),
                        field + " in full.yaml");
            }
        }
    }

    /**
     * Upstream's own testdata, where the Go module cache has it: the same input, and defaults that differ only where
     * kube-ferry fills in what upstream's scheme leaves empty for later (mode, detectLocalMode, the ipvs period).
     */
    @Test
    void upstreamsSchemeTestdataGivesTheSameDefaults() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(UPSTREAM),
                "no upstream testdata at " + UPSTREAM + " (provision.sh fills the Go module cache)");
        assertEquals(DocumentLeaves.of(Files.readString(UPSTREAM.resolve("before/v1alpha1.yaml"))),
                DocumentLeaves.of(Files.readString(DIR.resolve("before/defaults.yaml"))));
        Map<String, String> theirs = DocumentLeaves.of(Files.readString(UPSTREAM.resolve("after/v1alpha1.yaml")));
        Map<String, String> ours = DocumentLeaves.of(Files.readString(DIR.resolve("after/defaults.yaml")));
        assertEquals(theirs.keySet(), ours.keySet(), "the same fields");
        assertEquals(Map.of("/mode", " -> iptables", "/detectLocalMode", " -> ClusterCIDR", "/ipvs/syncPeriod", "0s -> 30s"),
                DocumentLeaves.differing(theirs, ours));
        ProxyConfig roundtrip = KubeProxyConfigurationLoader.load(UPSTREAM.resolve("roundtrip/default/v1alpha1.yaml"));
        assertEquals(ProxyConfig.defaults(), roundtrip, "upstream's round-trip file reads as the defaults");
    }
}
