package io.kubeferry.it.manifests;

import io.kubeferry.it.controlplane.RealControlPlane;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every overlay is accepted by a real kube-apiserver: server-side apply, server dry run, strict field validation. */
class ManifestsServerDryRunTest {

    @RegisterExtension
    static final RealControlPlane CONTROL_PLANE = new RealControlPlane();

    @ParameterizedTest
    @MethodSource("io.kubeferry.it.manifests.Overlay#modes")
    void overlayPassesServerSideDryRun(String mode) throws Exception {
        String kubectl = Overlay.kubectl().orElse(null);
        Assumptions.assumeTrue(kubectl != null, "kubectl is not on PATH");
        Path kubeconfig = Files.createTempFile("kube-ferry-kubeconfig", ".yaml");
        try {
            Files.writeString(kubeconfig, CONTROL_PLANE.controlPlane().kubeconfig());
            Overlay overlay = Overlay.build(kubectl, mode);
            Path rendered = Files.createTempFile("kube-ferry-" + mode, ".yaml");
            Files.writeString(rendered, overlay.yaml());
            Process p = new ProcessBuilder(List.of(kubectl, "--kubeconfig", kubeconfig.toString(), "apply", "--server-side",
                    "--dry-run=server", "--validate=strict", "--field-manager=kube-ferry-test", "-f", rendered.toString()))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            for (String object : List.of("serviceaccount/kube-ferry", "clusterrole.rbac.authorization.k8s.io/kube-ferry",
                    "clusterrolebinding.rbac.authorization.k8s.io/kube-ferry", "daemonset.apps/kube-ferry")) {
                assertTrue(out.contains(object + " serverside-applied (server dry run)"), out);
            }
            Files.delete(rendered);
        } finally {
            Files.deleteIfExists(kubeconfig);
        }
    }
}
