package io.kubeferry.it.peer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How a {@link PeerBed} runs an agent: the node namespace, the KubeProxyConfiguration file both agents read,
 * the ports it binds inside the namespace, the iptables flavour and where each agent's program is.
 *
 * @param shims a directory whose {@code iptables*}/{@code ip6tables*} name the chosen flavour's tools: upstream
 *              kube-proxy runs the unsuffixed names from PATH (its image's wrapper picks the flavour), so this
 *              directory first on its PATH makes it use {@code backend} whatever the machine's alternatives say
 */
public record AgentConfig(String netns, Path file, int metricsPort, int healthzPort, Backend backend,
        Path kubeProxy, Path jar, Path shims) {

    /** The iptables flavour both agents use. */
    public enum Backend {

        NFT("nft"), LEGACY("legacy");

        private final String variant;

        Backend(String variant) {
            this.variant = variant;
        }

        /** nft or legacy, as in {@code iptables-nft-save}. */
        public String variant() {
            return variant;
        }

        public String save() {
            return "iptables-" + variant + "-save";
        }

        public String save6() {
            return "ip6tables-" + variant + "-save";
        }
    }

    /** The argv (without the netns prefix) that runs {@code kind} with {@code args}. */
    public List<String> command(AgentProcess.Kind kind, String... args) {
        List<String> argv = new ArrayList<>();
        if (kind == AgentProcess.Kind.KUBE_PROXY) {
            argv.add(kubeProxy.toString());
        } else {
            // With the JVM settings a node gives it (the image's options, the DaemonSet's), read from what ships.
            argv.add(ProcessHandle.current().info().command().orElse("java"));
            argv.addAll(ShippedJvm.current().arguments());
            argv.addAll(List.of("-jar", jar.toString(), "run"));
        }
        argv.addAll(List.of(args));
        return argv;
    }

    /** Environment additions for {@code kind}: the flavour's shims first on kube-proxy's PATH; kube-ferry's JAVA_TOOL_OPTIONS. */
    public Map<String, String> environment(AgentProcess.Kind kind) {
        if (kind != AgentProcess.Kind.KUBE_PROXY) {
            return ShippedJvm.current().environment();
        }
        return Map.of("PATH", shims + ":" + System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
    }
}
