package io.kubeferry.it.peer;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.NetnsForwarder;
import io.kubeferry.it.NetnsTestBed;
import io.kubeferry.it.controlplane.ControlPlane;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A node both agents can program, one after the other: a {@link NetnsTestBed} (node namespace with the pod
 * bridge, pod and client namespaces) whose node namespace also runs the real etcd + kube-apiserver on its own
 * 127.0.0.1 ({@link ControlPlane#startIn}). Upstream kube-proxy has no option to program another namespace, so
 * it runs inside the node namespace and reaches the API server over that loopback; kube-ferry runs the same way
 * ({@code java -jar dist/target/kube-ferry.jar run --config F}), with the same file.
 * <pre>
 *   &#64;RegisterExtension static final PeerBed BED = new PeerBed();
 *   AgentConfig config = BED.config(Backend.NFT);
 *   try (AgentProcess agent = BED.start(Kind.KUBE_PROXY, config)) { agent.awaitSynced(...); ... }
 *   BED.reset(Kind.KUBE_PROXY, config);   // its own --cleanup, then a check that nothing of either agent is left
 * </pre>
 * Skips (prints why) without root, socat, the provisioned control plane, or the agent's program.
 */
public final class PeerBed implements BeforeAllCallback, AfterAllCallback {

    /** The node both agents are (hostnameOverride), and the Node object the bed creates for it. */
    public static final String NODE = "node-a";
    /** Ports inside the node namespace (its own: nothing else binds there). */
    public static final int METRICS_PORT = 10249;
    public static final int HEALTHZ_PORT = 10256;
    public static final Path JAR = Path.of("..", "dist", "target", "kube-ferry.jar").toAbsolutePath().normalize();

    /** Dual-stack: the node, pods and clients have IPv6 addresses too, so both agents run an IPv6 proxier with a node IP. */
    private final NetnsTestBed netns = NetnsTestBed.dualStack();
    private final AtomicInteger runs = new AtomicInteger();
    private final List<AgentProcess> started = new ArrayList<>();
    private ControlPlane controlPlane;
    private KubernetesClient client;
    private Path dir;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        assume(NetnsForwarder.available(), "the upstream-peer bed needs socat (dev/setup.sh installs it)");
        assume(ControlPlane.provisioned().isPresent(),
                "no control plane provisioned: run integration-tests/control-plane/provision.sh (dev/setup.sh does)");
        netns.beforeAll(context);
        dir = Files.createTempDirectory("kube-ferry-peer-");
        writeShims();
        // A dual-stack cluster: Services of either family and dual-stack ones (IPv6 Service IPs routed to the node).
        controlPlane = ControlPlane.startIn(ControlPlane.provisioned().orElseThrow(), netns.nodeNs(),
                ControlPlane.SERVICE_CIDR + "," + NetnsTestBed.SERVICE_CIDR6);
        Files.writeString(dir.resolve("kubeconfig"), controlPlane.kubeconfig());
        client = controlPlane.client();
        // Both agents read their node's addresses from the Node object (kube-proxy waits for it).
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress(NetnsTestBed.NODE_EXTERNAL_IP).endAddress()
                .addNewAddress().withType("InternalIP").withAddress(NetnsTestBed.NODE_EXTERNAL_IP6).endAddress().endStatus()
                .build()).create();
    }

    /** Skips the calling test (printing why) unless {@code kind}'s program is there. */
    public void assumeAvailable(AgentProcess.Kind kind) {
        if (kind == AgentProcess.Kind.KUBE_PROXY) {
            assume(Files.isExecutable(kubeProxy()), "no upstream kube-proxy at " + kubeProxy()
                    + ": run integration-tests/control-plane/provision.sh (dev/setup.sh does)");
        } else {
            assume(Files.isRegularFile(JAR), "the shipped jar is built first (mvn -pl integration-tests -am verify): " + JAR);
        }
    }

    /** A skip that says why on the console too (a skipped CI test must be explained where its log is read). */
    private static void assume(boolean condition, String reason) {
        if (!condition) {
            System.out.println("PeerBed: skipped: " + reason);
        }
        assumeTrue(condition, reason);
    }

    public NetnsTestBed netns() {
        return netns;
    }

    public String nodeNs() {
        return netns.nodeNs();
    }

    public ControlPlane controlPlane() {
        return controlPlane;
    }

    /** A client of the bed's API server, from this JVM. */
    public KubernetesClient client() {
        return client;
    }

    /** The standard configuration with {@code backend}. */
    public AgentConfig config(AgentConfig.Backend backend) throws IOException {
        return config(backend, "");
    }

    /**
     * The KubeProxyConfiguration both agents read: iptables mode (unless told another) as {@link #NODE}, the bed's pod CIDR, HTTP on the
     * namespace's loopback, and conntrack settings that leave the machine-wide sysctls alone (a non-root namespace
     * cannot write them: {@code maxPerCore: 0}, {@code min: 0}, zero TCP timeouts). {@code extraYaml} is appended
     * (top-level keys not already set here).
     */
    public AgentConfig config(AgentConfig.Backend backend, String extraYaml) throws IOException {
        return config(backend, "iptables", extraYaml);
    }

    /** The same with proxy mode {@code mode} (iptables, nftables). */
    public AgentConfig config(AgentConfig.Backend backend, String mode, String extraYaml) throws IOException {
        String yaml = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
                + "kind: KubeProxyConfiguration\n"
                + "clientConnection:\n  kubeconfig: " + dir.resolve("kubeconfig") + "\n"
                + "mode: " + mode + "\n"
                + "hostnameOverride: " + NODE + "\n"
                + "clusterCIDR: " + NetnsTestBed.POD_CIDR + "," + NetnsTestBed.POD_CIDR6 + "\n"
                + "metricsBindAddress: 127.0.0.1:" + METRICS_PORT + "\n"
                + "healthzBindAddress: 127.0.0.1:" + HEALTHZ_PORT + "\n"
                + "conntrack:\n  maxPerCore: 0\n  min: 0\n  tcpEstablishedTimeout: 0s\n  tcpCloseWaitTimeout: 0s\n"
                + extraYaml;
        Path file = dir.resolve("config-" + runs.incrementAndGet() + ".yaml");
        Files.writeString(file, yaml);
        return new AgentConfig(nodeNs(), file, METRICS_PORT, HEALTHZ_PORT, backend, kubeProxy(), JAR,
                dir.resolve("shims-" + backend.variant()));
    }

    /**
     * Starts {@code kind} with {@code config}. For the legacy flavour kube-ferry is told through kubelet's hint chain
     * ({@code KUBE-IPTABLES-HINT} in legacy mangle), the signal it shares with upstream's iptables wrapper.
     */
    public AgentProcess start(AgentProcess.Kind kind, AgentConfig config) throws IOException, InterruptedException {
        assumeAvailable(kind);
        if (config.backend() == AgentConfig.Backend.LEGACY) {
            netns.exec(nodeNs(), "iptables-legacy", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT");
        }
        AgentProcess agent = AgentProcess.start(kind, config, dir.resolve(kind.label() + "-" + runs.incrementAndGet() + ".log"));
        synchronized (started) {
            started.add(agent);
        }
        return agent;
    }

    /** Runs {@code kind}'s own {@code --cleanup} in the node namespace and returns its output; fails if it fails. */
    public String cleanup(AgentProcess.Kind kind, AgentConfig config) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", nodeNs()));
        argv.addAll(config.command(kind, "--cleanup", "--config", config.file().toString()));
        ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
        config.environment(kind).forEach(builder.environment()::put);
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(kind.label() + " --cleanup did not finish in 60 s: " + out);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(kind.label() + " --cleanup exited " + p.exitValue() + ": " + out);
        }
        return out;
    }

    /**
     * What either agent could have left in the node namespace, one line each (empty when clean): KUBE-* chains
     * with either flavour, IPv4 and IPv6; nfacct objects; nftables tables of kube-proxy's nftables mode;
     * route_localnet not back at 0.
     */
    public List<String> leftovers() throws IOException, InterruptedException {
        List<String> left = new ArrayList<>();
        for (String save : List.of("iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save")) {
            netns.stdout(nodeNs(), save).lines().filter(l -> l.startsWith(":KUBE-") || (l.startsWith("-A") && l.contains("KUBE-")))
                    .forEach(l -> left.add(save + ": " + l));
        }
        netns.exec(nodeNs(), "nfacct", "list").lines().filter(l -> !l.isBlank()).forEach(l -> left.add("nfacct: " + l.strip()));
        nftTables().stream().filter(l -> l.contains("kube-proxy")).forEach(l -> left.add("nft: " + l));
        String localnet = netns.exec(nodeNs(), "sysctl", "-n", "net.ipv4.conf.all.route_localnet").strip();
        if (!"0".equals(localnet)) {
            left.add("net.ipv4.conf.all.route_localnet=" + localnet);
        }
        return left;
    }

    /**
     * Leaves the node namespace as the bed made it, whatever is there: every table of both flavours flushed and
     * its chains deleted (the namespace holds nothing of the bed's own), nfacct objects and kube-proxy's nftables
     * tables removed, route_localnet 0, the connection tracking table emptied. Returns what was there ({@link #leftovers()}) before.
     */
    public List<String> scrub() throws IOException, InterruptedException {
        List<String> before = leftovers();
        for (String tool : List.of("iptables-nft", "ip6tables-nft", "iptables-legacy", "ip6tables-legacy")) {
            // Only the tables that exist: flushing one that does not would create it (and legacy tables make
            // iptables-nft warn).
            List<String> tables = netns.stdout(nodeNs(), tool + "-save").lines().filter(l -> l.startsWith("*")).map(l -> l.substring(1))
                    .toList();
            for (String table : tables) {
                netns.exec(nodeNs(), tool, "-t", table, "-F");
                netns.exec(nodeNs(), tool, "-t", table, "-X");
            }
        }
        netns.exec(nodeNs(), "nfacct", "flush");
        for (String family : List.of("ip", "ip6")) {
            if (nftTables().contains("table " + family + " kube-proxy")) {
                netns.exec(nodeNs(), "nft", "delete", "table", family, "kube-proxy");
            }
        }
        netns.exec(nodeNs(), "sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=0");
        // Connections of the last run (e.g. a UDP flow DNATed to an endpoint that is gone) must not steer the next.
        netns.exec(nodeNs(), "conntrack", "-F");
        return before;
    }

    /**
     * The nftables tables of the node namespace. Without the nft tool there are none of kube-proxy's to find: it
     * makes (and cleans up) its nftables-mode tables only through that tool (knftables).
     */
    public List<String> nftTables() throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of("/usr/sbin/nft"))) {
            return List.of();
        }
        return netns.exec(nodeNs(), "nft", "list", "tables").lines().toList();
    }

    /** What {@link #reset} found after an agent's own cleanup. */
    public record Reset(String cleanupOutput, List<String> leftAfterCleanup) {
    }

    /**
     * Between runs: {@code kind}'s own {@code --cleanup}, then whatever it left is recorded and removed
     * ({@link #scrub()}), then a check that nothing of either agent is left (fails otherwise).
     */
    public Reset reset(AgentProcess.Kind kind, AgentConfig config) throws IOException, InterruptedException {
        String out = cleanup(kind, config);
        if (config.backend() == AgentConfig.Backend.LEGACY) {
            // The hint is the bed's (kubelet's part), not the agent's: not counted as a leftover.
            netns.exec(nodeNs(), "iptables-legacy", "-t", "mangle", "-X", "KUBE-IPTABLES-HINT");
        }
        List<String> left = scrub();
        List<String> still = leftovers();
        if (!still.isEmpty()) {
            throw new IllegalStateException("the node namespace is not clean after " + kind.label() + "'s cleanup and a scrub:\n"
                    + String.join("\n", still));
        }
        return new Reset(out, left);
    }

    /** The IPv4 ruleset of the node namespace as {@code backend}'s iptables-save prints it. */
    public String iptablesSave(AgentConfig.Backend backend) throws IOException, InterruptedException {
        return netns.stdout(nodeNs(), backend.save());
    }

    /** The IPv6 ruleset of the node namespace as {@code backend}'s ip6tables-save prints it. */
    public String ip6tablesSave(AgentConfig.Backend backend) throws IOException, InterruptedException {
        return netns.stdout(nodeNs(), backend.save6());
    }

    /** Runs a command in the node namespace (fails on a non-zero exit). */
    public String execInNode(String... command) throws IOException, InterruptedException {
        return netns.exec(nodeNs(), command);
    }

    private Path kubeProxy() {
        return ControlPlane.provisioned().map(d -> d.resolve("kube-proxy")).orElse(Path.of("kube-proxy"));
    }

    /** The unsuffixed iptables names upstream kube-proxy runs, one directory per flavour (see AgentConfig.shims). */
    private void writeShims() throws IOException {
        for (AgentConfig.Backend backend : AgentConfig.Backend.values()) {
            Path shims = Files.createDirectories(dir.resolve("shims-" + backend.variant()));
            for (String family : List.of("iptables", "ip6tables")) {
                for (String suffix : List.of("", "-save", "-restore")) {
                    Path target = Path.of("/usr/sbin", family + "-" + backend.variant() + suffix);
                    Files.createSymbolicLink(shims.resolve(family + suffix), target);
                }
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        synchronized (started) {
            for (AgentProcess agent : started) {
                try {
                    agent.stop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            started.clear();
        }
        if (client != null) {
            client.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
        netns.afterAll(context);
        if (dir != null && !Boolean.getBoolean("kube-ferry.peer.keep")) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                System.err.println("PeerBed: could not remove " + dir + ": " + e.getMessage());
            }
        }
    }
}
