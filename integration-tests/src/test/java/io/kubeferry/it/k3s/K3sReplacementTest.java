package io.kubeferry.it.k3s;

import com.github.dockerjava.api.DockerClient;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * k3s without its embedded kube-proxy (--disable-kube-proxy), kube-ferry deployed as the DaemonSet from
 * manifests/overlays/iptables, and a Pod reaching a ClusterIP Service through kube-ferry's rules. Needs
 * Docker that can run privileged containers and pull (or already has) the k3s image; where any is missing
 * the suite skips and says which.
 */
class K3sReplacementTest {

    static final String K3S_IMAGE = System.getProperty("kubeferry.k3sImage", "rancher/k3s:v1.31.5-k3s1");
    static final String IMAGE = "kube-ferry:0.1.0";

    private static K3sContainer k3s;
    private static KubernetesClient client;
    private static String missing;

    @BeforeAll
    static void startK3s() throws Exception {
        missing = missingPrerequisite();
        if (missing != null) {
            System.out.println("k3s suite skipped: " + missing);
            return;
        }
        k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE))
                .withCommand("server", "--disable=traefik", "--disable-kube-proxy",
                        "--tls-san=" + DockerClientFactory.instance().dockerHostIpAddress());
        try {
            k3s.start();
        } catch (RuntimeException e) {
            missing = "the k3s container (privileged) could not start here: " + e.getMessage();
            System.out.println("k3s suite skipped: " + missing);
            return;
        }
        client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build();
    }

    /** The first thing this machine lacks for the suite, or null when everything is there. */
    static String missingPrerequisite() {
        try {
            if (!DockerClientFactory.instance().isDockerAvailable()) {
                return "no Docker daemon is reachable (no /var/run/docker.sock or DOCKER_HOST)";
            }
        } catch (Throwable e) {
            return "no Docker daemon is reachable: " + e.getMessage();
        }
        DockerClient docker = DockerClientFactory.instance().client();
        try {
            docker.inspectImageCmd(K3S_IMAGE).exec();
        } catch (Exception notLocal) {
            try {
                docker.pullImageCmd(K3S_IMAGE).start().awaitCompletion(5, TimeUnit.MINUTES);
            } catch (Exception e) {
                return "the k3s image " + K3S_IMAGE + " is not present and cannot be pulled: " + e.getMessage();
            }
        }
        return null;
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (k3s != null) {
            k3s.stop();
        }
    }

    @Test
    void kubeFerryReplacesKubeProxyAndAPodReachesAClusterIP() throws Exception {
        assumeTrue(missing == null, "k3s suite skipped: " + missing);
        Path repo = Path.of("..").toAbsolutePath().normalize();
        // Build the image from the repository's Dockerfile and load it into k3s's containerd.
        new ImageFromDockerfile(IMAGE, false).withFileFromPath(".", repo)
                .withDockerfile(repo.resolve("manifests/image/Dockerfile")).get();
        Path tar = Files.createTempFile("kube-ferry-image", ".tar");
        try (InputStream saved = DockerClientFactory.instance().client().saveImageCmd(IMAGE).exec()) {
            Files.copy(saved, tar, StandardCopyOption.REPLACE_EXISTING);
        }
        k3s.copyFileToContainer(MountableFile.forHostPath(tar), "/tmp/kube-ferry.tar");
        assertEquals(0, k3s.execInContainer("ctr", "images", "import", "/tmp/kube-ferry.tar").getExitCode());

        Process kustomize = new ProcessBuilder("kubectl", "kustomize", repo.resolve("manifests/overlays/iptables").toString()).start();
        byte[] yaml = kustomize.getInputStream().readAllBytes();
        assertTrue(kustomize.waitFor(60, TimeUnit.SECONDS) && kustomize.exitValue() == 0);
        List<HasMetadata> objects = new KubernetesSerialization().unmarshal(new ByteArrayInputStream(yaml));
        client.resourceList(objects).serverSideApply();
        client.apps().daemonSets().inNamespace("kube-system").withName("kube-ferry")
                .waitUntilCondition(ds -> ds != null && ds.getStatus() != null && ds.getStatus().getNumberReady() != null
                        && ds.getStatus().getNumberReady() >= 1, 5, TimeUnit.MINUTES);

        client.resource(new PodBuilder().withNewMetadata().withName("web").withNamespace("default").addToLabels("app", "web").endMetadata()
                .withNewSpec().addNewContainer().withName("web").withImage("busybox:1.36")
                .withCommand("sh", "-c", "mkdir -p /www && echo through-kube-ferry > /www/index.html && httpd -f -p 8080 -h /www")
                .endContainer().endSpec().build()).create();
        client.resource(new ServiceBuilder().withNewMetadata().withName("web").withNamespace("default").endMetadata()
                .withNewSpec().addToSelector("app", "web").addNewPort().withPort(80).withNewTargetPort(8080).endPort().endSpec().build())
                .create();
        String vip = client.services().inNamespace("default").withName("web").get().getSpec().getClusterIP();
        client.resource(new PodBuilder().withNewMetadata().withName("probe").withNamespace("default").endMetadata()
                .withNewSpec().withRestartPolicy("OnFailure").addNewContainer().withName("probe").withImage("busybox:1.36")
                .withCommand("sh", "-c", "until wget -qO- -T 2 http://" + vip + "/; do sleep 1; done").endContainer().endSpec().build())
                .create();
        Pod probe = client.pods().inNamespace("default").withName("probe").waitUntilCondition(
                p -> p != null && "Succeeded".equals(p.getStatus().getPhase()), 5, TimeUnit.MINUTES);
        String log = client.pods().inNamespace("default").withName(probe.getMetadata().getName()).getLog();
        assertTrue(log.contains("through-kube-ferry"), log);
        DaemonSet ds = client.apps().daemonSets().inNamespace("kube-system").withName("kube-ferry").get();
        assertTrue(ds.getStatus().getNumberReady() >= 1);
    }
}
