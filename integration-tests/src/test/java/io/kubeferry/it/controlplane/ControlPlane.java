package io.kubeferry.it.controlplane;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kubeferry.it.NetnsForwarder;
import io.kubeferry.proxy.watch.ApiReachability;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A real control plane on 127.0.0.1: etcd, kube-apiserver and kube-controller-manager (its EndpointSlice
 * controller makes slices from Pods), started from the binaries integration-tests/control-plane/provision.sh
 * produced. Processes are ours, ended by PID. The API server can be stopped and started again on the same
 * port and etcd, for robustness tests. Service IPs come from 198.19.0.0/16, the tests' virtual-IP range.
 * <p>
 * {@link #startIn} runs etcd and kube-apiserver instead inside a network namespace, bound to that namespace's own
 * 127.0.0.1 (as upstream kube-proxy, which cannot be pointed at another namespace, needs: it reaches the API
 * server over its own loopback). This JVM then reaches both through {@link NetnsForwarder}s, so {@link #url()}
 * and {@link #client()} work the same; {@link #kubeconfig()} names the address an agent inside the namespace
 * uses. No controller manager there: those tests write their EndpointSlices themselves.
 */
public final class ControlPlane implements AutoCloseable {

    public static final String SERVICE_CIDR = "198.19.0.0/16";

    private final Path binaries;
    private final Path dir;
    private final Optional<String> netns;
    /** --service-cluster-ip-range: {@link #SERVICE_CIDR}, or a dual-stack pair ({@link #startIn(Path, String, String)}). */
    private final String serviceCIDRs;
    private final String token = UUID.randomUUID().toString().replace("-", "");
    // In a namespace of its own the well-known ports are free (nothing else listens there).
    private final int etcdPort;
    private final int etcdPeerPort;
    private final int apiPort;
    private final List<Process> all = new ArrayList<>();
    private final List<NetnsForwarder> forwarders = new ArrayList<>();
    private int etcdReachPort;
    private int apiReachPort;
    private Process etcd;
    private Process apiserver;
    private Process controllerManager;

    private ControlPlane(Path binaries, Optional<String> netns, String serviceCIDRs) throws IOException {
        this.binaries = binaries;
        this.netns = netns;
        this.serviceCIDRs = serviceCIDRs;
        this.dir = Files.createTempDirectory("kube-ferry-controlplane-");
        this.etcdPort = netns.isPresent() ? 2379 : freePort();
        this.etcdPeerPort = netns.isPresent() ? 2380 : freePort();
        this.apiPort = netns.isPresent() ? 6443 : freePort();
        this.etcdReachPort = etcdPort;
        this.apiReachPort = apiPort;
    }

    /** The provisioned binaries (highest version), or empty with nothing provisioned. */
    public static Optional<Path> provisioned() {
        String cache = System.getenv().getOrDefault("KUBE_FERRY_CACHE", System.getProperty("user.home") + "/.cache/kube-ferry");
        Path k8s = Path.of(cache, "k8s");
        if (!Files.isDirectory(k8s)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(k8s)) {
            return dirs.filter(d -> Files.exists(d.resolve(".complete")))
                    .max(Comparator.comparing(d -> versionKey(d.getFileName().toString())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String versionKey(String name) {
        StringBuilder key = new StringBuilder();
        for (String part : name.replace("-linux-amd64", "").split("\\.")) {
            key.append(String.format("%05d", Integer.parseInt(part.replaceAll("\\D", "0"))));
        }
        return key.toString();
    }

    public static String version(Path binaries) {
        return binaries.getFileName().toString().replace("-linux-amd64", "");
    }

    public static ControlPlane start(Path binaries) throws Exception {
        return start(new ControlPlane(binaries, Optional.empty(), SERVICE_CIDR));
    }

    /** etcd and kube-apiserver (no controller manager) inside {@code netns}, on its 127.0.0.1; see the class comment. */
    public static ControlPlane startIn(Path binaries, String netns) throws Exception {
        return startIn(binaries, netns, SERVICE_CIDR);
    }

    /**
     * As {@link #startIn(Path, String)}, with {@code serviceCIDRs} as --service-cluster-ip-range: a pair (IPv4 first)
     * makes a dual-stack cluster, where Services may have an IPv6 ClusterIP or one of each family.
     */
    public static ControlPlane startIn(Path binaries, String netns, String serviceCIDRs) throws Exception {
        return start(new ControlPlane(binaries, Optional.of(netns), serviceCIDRs));
    }

    private static ControlPlane start(ControlPlane cp) throws Exception {
        try {
            cp.boot();
            return cp;
        } catch (Exception e) {
            cp.close();
            throw e;
        }
    }

    private void boot() throws Exception {
        Files.writeString(dir.resolve("tokens.csv"), token + ",admin,admin,system:masters\n");
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair keys = generator.generateKeyPair();
        Files.writeString(dir.resolve("sa.key"), pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
        Files.writeString(dir.resolve("sa.pub"), pem("PUBLIC KEY", keys.getPublic().getEncoded()));
        if (netns.isPresent()) {
            etcdReachPort = forward(etcdPort);
            apiReachPort = forward(apiPort);
        }
        etcd = launch("etcd", List.of(binaries.resolve("etcd").toString(), "--data-dir", dir.resolve("etcd").toString(),
                "--listen-client-urls", "http://127.0.0.1:" + etcdPort, "--advertise-client-urls", "http://127.0.0.1:" + etcdPort,
                "--listen-peer-urls", "http://127.0.0.1:" + etcdPeerPort, "--initial-advertise-peer-urls",
                "http://127.0.0.1:" + etcdPeerPort,
                "--initial-cluster", "default=http://127.0.0.1:" + etcdPeerPort, "--log-level", "warn"));
        await("etcd", () -> httpOk("http://127.0.0.1:" + etcdReachPort + "/health"));
        startApiServer();
        Files.writeString(dir.resolve("admin.kubeconfig"), kubeconfig());
        if (netns.isPresent()) {
            return;
        }
        controllerManager = launch("kube-controller-manager", List.of(binaries.resolve("kube-controller-manager").toString(),
                "--kubeconfig", dir.resolve("admin.kubeconfig").toString(),
                "--controllers", "endpointslice,endpointslicemirroring",
                "--leader-elect=false", "--secure-port=0", "--use-service-account-credentials=false",
                // Small batching so slices follow pod changes quickly, as in a busy real cluster.
                "--endpointslice-updates-batch-period=0s", "-v=1"));
    }

    /** Starts (or restarts) kube-apiserver on the same port and etcd, and waits until it is ready. */
    public synchronized void startApiServer() throws Exception {
        apiserver = launch("kube-apiserver", List.of(binaries.resolve("kube-apiserver").toString(),
                "--etcd-servers", "http://127.0.0.1:" + etcdPort,
                "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", String.valueOf(apiPort),
                "--cert-dir", dir.resolve("certs").toString(),
                "--token-auth-file", dir.resolve("tokens.csv").toString(),
                "--authorization-mode", "RBAC",
                "--service-cluster-ip-range", serviceCIDRs,
                "--service-account-issuer", "https://kubernetes.default.svc",
                "--service-account-key-file", dir.resolve("sa.pub").toString(),
                "--service-account-signing-key-file", dir.resolve("sa.key").toString(),
                "--disable-admission-plugins", "ServiceAccount",
                "--endpoint-reconciler-type", "none",
                "--allow-privileged=true", "-v=1"));
        await("kube-apiserver", () -> httpOk(url() + "/readyz"));
    }

    /** Kills kube-apiserver (as a crash would); etcd and the controller manager keep running. */
    public synchronized void stopApiServer() throws InterruptedException {
        if (apiserver != null) {
            apiserver.destroyForcibly();
            apiserver.waitFor(20, TimeUnit.SECONDS);
            all.remove(apiserver);
            apiserver = null;
        }
    }

    /**
     * Compacts etcd's history up to now, so a watch resuming from an older resourceVersion gets 410 Gone.
     * Uses etcd's JSON gateway.
     */
    public void compactEtcd() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + etcdReachPort + "/v3/kv/";
        String range = http.send(HttpRequest.newBuilder(URI.create(base + "range"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + Base64.getEncoder().encodeToString("/".getBytes()) + "\"}"))
                .build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String revision = range.replaceAll("(?s).*\"revision\":\"(\\d+)\".*", "$1");
        HttpResponse<String> compacted = http.send(HttpRequest.newBuilder(URI.create(base + "compaction"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"revision\":\"" + revision + "\",\"physical\":true}")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (compacted.statusCode() != 200) {
            throw new IllegalStateException("etcd compaction failed: " + compacted.body());
        }
    }

    /** The API server as this JVM reaches it. */
    public String url() {
        return "https://127.0.0.1:" + apiReachPort;
    }

    /** The API server as an agent reaches it: from the control plane's namespace (the root one unless {@link #startIn}). */
    public String agentUrl() {
        return "https://127.0.0.1:" + apiPort;
    }

    /** Where this control plane keeps its files (certificates, logs, the admin kubeconfig). */
    public Path dir() {
        return dir;
    }

    public KubernetesClient client() {
        return client(new ApiReachability());
    }

    /** A client with {@code reachability} on its HTTP client, as the agent's own (Main.client). */
    public KubernetesClient client(ApiReachability reachability) {
        return reachability
                .installOn(new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl(url()).withOauthToken(token)
                        .withTrustCerts(true).withRequestTimeout(10_000).withConnectionTimeout(5_000).build()))
                .build();
    }

    /** A kubeconfig for this control plane (what the agent's --kubeconfig would read), with {@link #agentUrl()}. */
    public String kubeconfig() {
        return "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: " + agentUrl()
                + "\n    insecure-skip-tls-verify: true\nusers:\n- name: admin\n  user:\n    token: " + token
                + "\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: admin\ncurrent-context: test\n";
    }

    private int forward(int port) throws IOException, InterruptedException {
        NetnsForwarder forwarder = NetnsForwarder.open(netns.orElseThrow(), port);
        forwarders.add(forwarder);
        return forwarder.port();
    }

    private Process launch(String name, List<String> command) throws IOException {
        Path log = dir.resolve(name + ".log");
        // ip netns exec execs the command, so the Process is etcd's (or the API server's) own PID.
        List<String> argv = new ArrayList<>();
        netns.ifPresent(ns -> argv.addAll(List.of("ip", "netns", "exec", ns)));
        argv.addAll(command);
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        all.add(p);
        return p;
    }

    private void await(String what, java.util.concurrent.Callable<Boolean> ready) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (ready.call()) {
                    return;
                }
            } catch (Exception e) {
                // not up yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(what + " did not become ready in 90 s; log:\n" + tail(dir.resolve(what + ".log")));
    }

    private boolean httpOk(String address) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(address)).timeout(Duration.ofSeconds(2));
        if (address.startsWith("https")) {
            request.header("Authorization", "Bearer " + token);
        }
        return insecureHttp().send(request.build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
    }

    private static HttpClient insecureHttp() throws Exception {
        // The API server's self-signed serving certificate: this client only ever talks to 127.0.0.1.
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new TrustManager[] {new X509TrustManager() {

            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(2)).build();
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public synchronized void close() {
        List<Process> reversed = new ArrayList<>(all);
        java.util.Collections.reverse(reversed);
        for (Process p : reversed) {
            p.destroy();
        }
        for (Process p : reversed) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        all.clear();
        forwarders.forEach(NetnsForwarder::close);
        forwarders.clear();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // temp dir; best effort
        }
    }
}
