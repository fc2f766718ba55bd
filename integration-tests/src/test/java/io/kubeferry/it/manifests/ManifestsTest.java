package io.kubeferry.it.manifests;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Every overlay builds with the real kustomize and has the shape an operator relies on. */
class ManifestsTest {

    /** The whole grant, as group/resource -> verbs. Anything beyond this is a failure. */
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "/services", Set.of("get", "list", "watch"),
            "discovery.k8s.io/endpointslices", Set.of("get", "list", "watch"),
            "networking.k8s.io/servicecidrs", Set.of("list", "watch"),
            "/nodes", Set.of("get", "list", "watch"),
            "/events", Set.of("create", "patch"),
            "events.k8s.io/events", Set.of("create", "patch"));

    private static String kubectl;

    @BeforeAll
    static void findKubectl() {
        kubectl = Overlay.kubectl().orElse(null);
        Assumptions.assumeTrue(kubectl != null, "kubectl is not on PATH: cannot build the kustomize overlays");
    }

    @ParameterizedTest
    @MethodSource("io.kubeferry.it.manifests.Overlay#modes")
    void clusterRoleGrantsNothingBeyondWhatTheAgentUses(String mode) throws Exception {
        ClusterRole role = Overlay.build(kubectl, mode).only(ClusterRole.class);
        Set<String> granted = new HashSet<>();
        for (PolicyRule rule : role.getRules()) {
            assertTrue(rule.getResourceNames() == null || rule.getResourceNames().isEmpty(), "no resourceNames expected");
            assertTrue(rule.getNonResourceURLs() == null || rule.getNonResourceURLs().isEmpty(), "no non-resource URLs");
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    String key = group + "/" + resource;
                    Set<String> allowed = ALLOWED.get(key);
                    if (allowed == null) {
                        fail(mode + ": ClusterRole grants " + key + ", which the agent does not use");
                    }
                    for (String verb : rule.getVerbs()) {
                        assertTrue(allowed.contains(verb), mode + ": verb " + verb + " on " + key + " is not needed");
                        granted.add(key + ":" + verb);
                    }
                }
            }
        }
        // And what the agent needs is really there.
        for (String needed : List.of("/services:watch", "discovery.k8s.io/endpointslices:list", "/nodes:watch",
                "networking.k8s.io/servicecidrs:watch", "/events:create")) {
            assertTrue(granted.contains(needed), mode + ": missing " + needed);
        }
        assertFalse(granted.stream().anyMatch(g -> g.contains("secrets")), "no access to Secrets");
    }

    @ParameterizedTest
    @MethodSource("io.kubeferry.it.manifests.Overlay#modes")
    void daemonSetIsShapedLikeKubeProxys(String mode) throws Exception {
        Overlay overlay = Overlay.build(kubectl, mode);
        DaemonSet ds = overlay.only(DaemonSet.class);
        assertEquals("kube-system", ds.getMetadata().getNamespace());
        assertEquals("RollingUpdate", ds.getSpec().getUpdateStrategy().getType());
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertEquals(Boolean.TRUE, pod.getHostNetwork());
        assertEquals("system-node-critical", pod.getPriorityClassName());
        assertTrue(pod.getTolerations().stream().anyMatch(t -> "Exists".equals(t.getOperator()) && t.getKey() == null),
                "a toleration for every taint");
        ClusterRoleBinding binding = overlay.only(ClusterRoleBinding.class);
        assertEquals(pod.getServiceAccountName(), binding.getSubjects().get(0).getName());

        Container agent = pod.getContainers().get(0);
        assertEquals("/livez", agent.getLivenessProbe().getHttpGet().getPath());
        assertEquals("/healthz", agent.getReadinessProbe().getHttpGet().getPath());
        assertEquals(10256, agent.getLivenessProbe().getHttpGet().getPort().getIntVal());
        assertNotNull(agent.getResources().getRequests().get("cpu"));
        assertNotNull(agent.getResources().getRequests().get("memory"));
        assertTrue(agent.getSecurityContext().getCapabilities().getAdd().contains("NET_ADMIN"));

        EnvVar nodeName = agent.getEnv().stream().filter(e -> e.getName().equals("NODE_NAME")).findFirst().orElseThrow();
        assertEquals("spec.nodeName", nodeName.getValueFrom().getFieldRef().getFieldPath());
        assertTrue(agent.getArgs().contains("--hostname-override=$(NODE_NAME)"));

        Map<String, String> mounts = agent.getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getName, VolumeMount::getMountPath));
        assertEquals("/run/xtables.lock", mounts.get("xtables-lock"));
        assertEquals("/lib/modules", mounts.get("lib-modules"));
        Map<String, Volume> volumes = pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
        assertEquals("/run/xtables.lock", volumes.get("xtables-lock").getHostPath().getPath());
        assertEquals("FileOrCreate", volumes.get("xtables-lock").getHostPath().getType());

        // The config volume must name the generated (hash-suffixed) ConfigMap, so a config change rolls the pods.
        String configMapName = volumes.get("config").getConfigMap().getName();
        ConfigMap config = overlay.all(ConfigMap.class).stream()
                .filter(c -> c.getMetadata().getName().equals(configMapName)).findFirst()
                .orElseThrow(() -> new AssertionError("config volume names " + configMapName + ", which the overlay lacks"));
        assertTrue(configMapName.startsWith("kube-ferry-config-"), configMapName);
        assertTrue(config.getData().get("config.conf").contains("\nmode: " + mode + "\n"), "overlay " + mode + " sets its mode");
    }

    @ParameterizedTest
    @MethodSource("io.kubeferry.it.manifests.Overlay#modes")
    void everyObjectMatchesTheKubernetesSchema(String mode) throws Exception {
        Overlay overlay = Overlay.build(kubectl, mode);
        assertEquals(Set.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"),
                overlay.objects().stream().map(o -> o.getKind()).collect(Collectors.toSet()));
        for (var object : overlay.objects()) {
            List<String> problems = SchemaCheck.unknownFields(object, object.getKind() + "/" + object.getMetadata().getName());
            assertTrue(problems.isEmpty(), String.join("\n", problems));
        }
    }

    @ParameterizedTest
    @MethodSource("io.kubeferry.it.manifests.Overlay#modes")
    void theConfigMapIsAConfigTheAgentAccepts(String mode) throws Exception {
        ConfigMap config = Overlay.build(kubectl, mode).all(ConfigMap.class).stream()
                .filter(c -> c.getMetadata().getName().startsWith("kube-ferry-config-")).findFirst().orElseThrow();
        var parsed = io.kubeferry.proxy.config.KubeProxyConfigurationLoader.parse(config.getData().get("config.conf"));
        assertEquals(mode, parsed.mode());
        assertEquals("0.0.0.0:10256", parsed.healthzBindAddress(), "probes target port 10256");
    }

    @Test
    void theSchemaCheckCatchesAMisspeltField() {
        var ds = new io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder().withNewMetadata().withName("x").endMetadata()
                .withNewSpec().withNewTemplate().withNewSpec().addNewToleration().withOperator("Exists").endToleration()
                .endSpec().endTemplate().endSpec().build();
        ds.getSpec().getTemplate().getSpec().getTolerations().get(0).setAdditionalProperty("operater", "Exists");
        assertEquals(1, SchemaCheck.unknownFields(ds, "DaemonSet/x").size());
    }

    @Test
    void switchingModesChangesThePodTemplate() throws Exception {
        List<String> modes = Overlay.modes();
        assertTrue(modes.containsAll(List.of("iptables", "ipvs", "nftables")), "an overlay per mode: " + modes);
        Map<String, String> templates = new java.util.TreeMap<>();
        for (String mode : modes) {
            templates.put(mode, Overlay.build(kubectl, mode).only(DaemonSet.class).getSpec().getTemplate().toString());
        }
        // Every pair differs: the DaemonSet must roll whichever way the mode changes.
        assertEquals(modes.size(), new HashSet<>(templates.values()).size(), "the DaemonSet must roll when the mode changes");
    }

    /**
     * nft runs in the agent's container: nftables mode's limit leaves room for it (0.76 GB to load 10,000 Services x 5
     * endpoints) while the JVM keeps the base limit's heap ceiling; the other modes keep the base's limit.
     */
    @Test
    void nftablesModeLeavesNftItsMemory() throws Exception {
        for (String mode : Overlay.modes()) {
            Container agent = Overlay.build(kubectl, mode).only(DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().get(0);
            long limit = agent.getResources().getLimits().get("memory").getNumericalAmount().longValue();
            String javaOptions = agent.getEnv().stream().filter(e -> e.getName().equals("_JAVA_OPTIONS")).map(EnvVar::getValue)
                    .findFirst().orElse("");
            if (mode.equals("nftables")) {
                assertTrue(limit >= 768L * 1024 * 1024 + 1024L * 1024 * 1024, mode + ": the agent's 768Mi plus 1Gi for nft: " + limit);
                assertEquals("-XX:MaxRAM=768m", javaOptions, mode + ": the JVM's heap ceiling stays the base limit's");
            } else {
                assertEquals(768L * 1024 * 1024, limit, mode);
                assertEquals("", javaOptions, mode);
            }
        }
    }
}
