package io.kubeferry.it;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real-kernel test bed in network namespaces that the test creates and always removes:
 * <pre>
 *   pod namespaces  198.18.0.x/24 --veth-- [kbr0 198.18.0.1]  node namespace  [198.18.1.1] --veth-- client 198.18.1.2
 *                                                                             [198.18.2.1] --veth-- other client 198.18.2.2 (on first use)
 * </pre>
 * The node namespace holds the bridge and all netfilter state (the agent under test programs it); pods and
 * the client route only 198.19.0.0/16 (Service IPs) and each other's subnet via the node. Nothing has a route
 * off the machine, and the root namespace is never touched: veths are created inside the node namespace.
 * Names carry a per-run prefix so parallel beds do not collide.
 * <p>
 * A {@link #dualStack()} bed gives every link an IPv6 address beside its IPv4 one, from the documentation range
 * 2001:db8::/32: pods 2001:db8::x/64 on the bridge (2001:db8::1), the node 2001:db8:1::1 towards the client
 * 2001:db8:1::2 (and 2001:db8:2::1 towards the other client 2001:db8:2::2), Service IPs 2001:db8:f::/112 routed
 * only via the node, as 198.19.0.0/16 is. No address goes through duplicate address detection ({@code nodad} on the
 * bed's, {@code accept_dad=0} for the link-locals), which would hold a fresh link's first packets back for a second
 * or more; IPv6 forwarding is turned on in the node namespace only.
 */
public final class NetnsTestBed implements BeforeAllCallback, AfterAllCallback {

    private static final AtomicInteger BEDS = new AtomicInteger();

    public static final String NODE_BRIDGE_IP = "198.18.0.1";
    public static final String NODE_EXTERNAL_IP = "198.18.1.1";
    public static final String CLIENT_IP = "198.18.1.2";
    public static final String OTHER_CLIENT_IP = "198.18.2.2";
    public static final String POD_CIDR = "198.18.0.0/24";

    public static final String NODE_BRIDGE_IP6 = "2001:db8::1";
    public static final String NODE_EXTERNAL_IP6 = "2001:db8:1::1";
    public static final String CLIENT_IP6 = "2001:db8:1::2";
    public static final String OTHER_CLIENT_IP6 = "2001:db8:2::2";
    public static final String POD_CIDR6 = "2001:db8::/64";
    public static final String SERVICE_CIDR6 = "2001:db8:f::/112";
    private static final String CLIENT_NET6 = "2001:db8:1::/64";

    /**
     * A pod: its namespace and address (and its IPv6 address in a {@link #dualStack()} bed, else null), and the echo
     * server process answering with its name.
     */
    public record Pod(String name, String ns, String ip, String ip6, Process server) {
    }

    private final String prefix = "kf" + (ProcessHandle.current().pid() % 100000) + "-" + BEDS.incrementAndGet();
    private final List<String> namespaces = Collections.synchronizedList(new ArrayList<>());
    private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    private final List<Pod> pods = new ArrayList<>();
    private Thread shutdownHook;
    private Client client;
    private Client otherClient;
    private final boolean ipv6;

    /** An IPv4-only bed. */
    public NetnsTestBed() {
        this(false);
    }

    private NetnsTestBed(boolean ipv6) {
        this.ipv6 = ipv6;
    }

    /** A bed whose pods, node and clients have IPv6 addresses beside their IPv4 ones (see the class comment). */
    public static NetnsTestBed dualStack() {
        return new NetnsTestBed(true);
    }

    public String nodeNs() {
        return prefix + "-node";
    }

    public String clientNs() {
        return prefix + "-client";
    }

    public List<Pod> pods() {
        return List.copyOf(pods);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        assumeTrue(isRoot(), "real-kernel tests need root (network namespaces, iptables); running as uid " + uid());
        assumeTrue(run(List.of("ip", "-V")).exit == 0, "real-kernel tests need iproute2's ip command");
        assumeTrue(!ipv6 || java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/sys/net/ipv6")),
                "a dual-stack bed needs IPv6 in the kernel (/proc/sys/net/ipv6 is missing: IPv6 is disabled or not built)");
        shutdownHook = new Thread(this::teardown, "netns-teardown-" + prefix);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        String node = nodeNs();
        addNamespace(node);
        ip(node, "link", "add", "kbr0", "type", "bridge");
        ip(node, "addr", "add", NODE_BRIDGE_IP + "/24", "dev", "kbr0");
        ip(node, "link", "set", "kbr0", "up");
        // Service IPs are routed on-link, as a node's default route would carry them: a packet to a
        // Service IP that no DNAT rule caught must be forwarded (and meet the filter REJECT), not dropped.
        ip(node, "route", "add", "198.19.0.0/16", "dev", "kbr0");
        // Gotchas of this kernel (see shared/reference/test-environments.md): forwarding is off in a new
        // namespace, bridged replies must pass iptables to be un-DNATed, and ICMP redirects would eat the
        // rate limit that REJECT's "port unreachable" needs.
        sysctl(node, "net.ipv4.ip_forward=1");
        sysctl(node, "net.ipv4.conf.all.send_redirects=0");
        sysctl(node, "net.ipv4.conf.default.send_redirects=0");
        // And the per-client ICMP error limit (a burst of 6, then one a second) would let "refused at once" checks
        // see a time-out once earlier host-unreachables to the same client used the burst up.
        sysctl(node, "net.ipv4.icmp_ratelimit=0");
        sysctl(node, "net.bridge.bridge-nf-call-iptables=1");
        if (ipv6) {
            // The same for IPv6: forwarding (in this namespace only), bridged replies through ip6tables, and no rate
            // limit on ICMPv6 errors (REJECT's "port unreachable").
            addAddress6(node, NODE_BRIDGE_IP6 + "/64", "kbr0");
            ip(node, "route", "add", SERVICE_CIDR6, "dev", "kbr0");
            sysctl(node, "net.ipv6.conf.all.forwarding=1");
            sysctl(node, "net.ipv6.icmp.ratelimit=0");
            sysctl(node, "net.bridge.bridge-nf-call-ip6tables=1");
        }
        String clientNs = clientNs();
        addNamespace(clientNs);
        ip(node, "link", "add", "ext0", "type", "veth", "peer", "name", "eth0", "netns", clientNs);
        ip(node, "addr", "add", NODE_EXTERNAL_IP + "/24", "dev", "ext0");
        ip(node, "link", "set", "ext0", "up");
        ip(clientNs, "addr", "add", CLIENT_IP + "/24", "dev", "eth0");
        ip(clientNs, "link", "set", "eth0", "up");
        ip(clientNs, "route", "add", "198.19.0.0/16", "via", NODE_EXTERNAL_IP);
        ip(clientNs, "route", "add", "198.18.0.0/24", "via", NODE_EXTERNAL_IP);
        if (ipv6) {
            addAddress6(node, NODE_EXTERNAL_IP6 + "/64", "ext0");
            addAddress6(clientNs, CLIENT_IP6 + "/64", "eth0");
            ip(clientNs, "route", "add", SERVICE_CIDR6, "via", NODE_EXTERNAL_IP6);
            ip(clientNs, "route", "add", POD_CIDR6, "via", NODE_EXTERNAL_IP6);
        }
    }

    /** Whether this bed's links carry IPv6 addresses too ({@link #dualStack()}). */
    public boolean ipv6() {
        return ipv6;
    }

    private void addAddress6(String ns, String cidr, String device) throws IOException, InterruptedException {
        ip(ns, "addr", "add", cidr, "dev", device, "nodad");
    }

    /** Adds a pod namespace on the bridge, running an echo server (TCP 8080, UDP 5353) that answers with {@code name}. */
    public Pod addPod(String name, int hostOctet) throws Exception {
        String ns = prefix + "-" + name;
        String ipAddress = "198.18.0." + hostOctet;
        addNamespace(ns);
        String veth = "v" + hostOctet;
        ip(nodeNs(), "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
        ip(nodeNs(), "link", "set", veth, "master", "kbr0");
        // Hairpin: a pod reaching itself through a Service gets its packets back through its own bridge port.
        ip(nodeNs(), "link", "set", veth, "type", "bridge_slave", "hairpin", "on");
        ip(nodeNs(), "link", "set", veth, "up");
        ip(ns, "addr", "add", ipAddress + "/24", "dev", "eth0");
        ip(ns, "link", "set", "eth0", "up");
        ip(ns, "route", "add", "198.19.0.0/16", "via", NODE_BRIDGE_IP);
        ip(ns, "route", "add", "198.18.1.0/24", "via", NODE_BRIDGE_IP);
        String ip6 = null;
        if (ipv6) {
            // Decimal digits read as hex: pod .11 is ::11, easy to match up.
            ip6 = "2001:db8::" + hostOctet;
            addAddress6(ns, ip6 + "/64", "eth0");
            ip(ns, "route", "add", SERVICE_CIDR6, "via", NODE_BRIDGE_IP6);
            ip(ns, "route", "add", CLIENT_NET6, "via", NODE_BRIDGE_IP6);
        }
        Process server = startJava(ns, EchoServer.class.getName(), name, "8080", "5353");
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        if (first == null || !first.startsWith("listening")) {
            throw new IllegalStateException("echo server in " + ns + " did not start: " + first);
        }
        Pod pod = new Pod(name, ns, ipAddress, ip6, server);
        pods.add(pod);
        return pod;
    }

    /** An empty namespace (loopback only) owned by this bed and removed with it. */
    public String bareNamespace(String suffix) throws IOException, InterruptedException {
        String ns = prefix + "-" + suffix;
        addNamespace(ns);
        return ns;
    }

    /** The traffic client in the client namespace (one JVM, started on first use). */
    public synchronized Client client() throws IOException {
        if (client == null) {
            client = startClient(clientNs());
        }
        return client;
    }

    /**
     * A second traffic client from another address ({@link #OTHER_CLIENT_IP}, its own namespace and link to the node,
     * made on first use): for what tells clients apart by source, such as loadBalancerSourceRanges.
     */
    public synchronized Client otherClient() throws IOException, InterruptedException {
        if (otherClient == null) {
            String ns = prefix + "-client2";
            addNamespace(ns);
            ip(nodeNs(), "link", "add", "ext1", "type", "veth", "peer", "name", "eth0", "netns", ns);
            ip(nodeNs(), "addr", "add", "198.18.2.1/24", "dev", "ext1");
            ip(nodeNs(), "link", "set", "ext1", "up");
            ip(ns, "addr", "add", OTHER_CLIENT_IP + "/24", "dev", "eth0");
            ip(ns, "link", "set", "eth0", "up");
            ip(ns, "route", "add", "198.19.0.0/16", "via", "198.18.2.1");
            ip(ns, "route", "add", "198.18.0.0/24", "via", "198.18.2.1");
            if (ipv6) {
                addAddress6(nodeNs(), "2001:db8:2::1/64", "ext1");
                addAddress6(ns, OTHER_CLIENT_IP6 + "/64", "eth0");
                ip(ns, "route", "add", SERVICE_CIDR6, "via", "2001:db8:2::1");
                ip(ns, "route", "add", POD_CIDR6, "via", "2001:db8:2::1");
            }
            otherClient = startClient(ns);
        }
        return otherClient;
    }

    /**
     * Another traffic client, in {@code ns} (one of this bed's namespaces, e.g. the node's or a pod's), for traffic
     * that must start there; stopped with the bed.
     */
    public Client clientIn(String ns) throws IOException {
        return startClient(ns);
    }

    private Client startClient(String ns) throws IOException {
        Client started = new Client(startJava(ns, TrafficClient.class.getName()));
        String ready = started.reader.readLine();
        if (!"ready".equals(ready)) {
            throw new IllegalStateException("traffic client in " + ns + " did not start: " + ready);
        }
        return started;
    }

    /** Runs a command inside a namespace and returns its output; fails the test on a non-zero exit. */
    public String exec(String ns, String... command) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(List.of(command));
        Result r = run(argv);
        if (r.exit != 0) {
            throw new IllegalStateException(String.join(" ", argv) + " exited " + r.exit + ": " + r.output);
        }
        return r.output;
    }

    /**
     * Runs a command inside a namespace and returns its standard output alone (for output that is parsed, e.g.
     * iptables-save, whose warnings go to stderr); fails the test, with stderr, on a non-zero exit.
     */
    public String stdout(String ns, String... command) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(List.of(command));
        java.nio.file.Path err = java.nio.file.Files.createTempFile("kube-ferry-stderr-", ".txt");
        try {
            Process p = new ProcessBuilder(argv).redirectError(err.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", argv) + " timed out");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(
                        String.join(" ", argv) + " exited " + p.exitValue() + ": " + java.nio.file.Files.readString(err));
            }
            return out;
        } finally {
            java.nio.file.Files.deleteIfExists(err);
        }
    }

    /** Line-oriented access to the traffic client. */
    public static final class Client {

        private final Process process;
        private final BufferedReader reader;
        private final PrintWriter writer;

        Client(Process process) {
            this.process = process;
            this.reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.writer = new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
        }

        public synchronized String ask(String command) throws IOException {
            writer.println(command);
            String answer = reader.readLine();
            if (answer == null) {
                throw new IOException("traffic client exited");
            }
            return answer;
        }

        public String tcp(String host, int port) throws IOException {
            return ask("tcp " + host + " " + port);
        }

        /** One connection from {@code source}, an address this client's namespace holds. */
        public String tcpFrom(String source, String host, int port) throws IOException {
            return ask("tcpfrom " + source + " " + host + " " + port);
        }

        public String udp(String host, int port, int sourcePort) throws IOException {
            return ask("udp " + host + " " + port + " " + sourcePort);
        }

        /**
         * Network programming latency of one change: starts polling {@code host:port} (connections back to back)
         * until {@code name} answers, makes the change, and returns the milliseconds from the change until that
         * answer. Fails, saying what answered, if {@code name} does not within {@code timeoutMs}.
         */
        public long millisUntil(String host, int port, String name, long timeoutMs, Callable<?> change) throws Exception {
            CompletableFuture<String> reached = CompletableFuture.supplyAsync(() -> {
                try {
                    return ask("until " + host + " " + port + " " + name + " " + timeoutMs);
                } catch (IOException e) {
                    return "ERROR " + e;
                }
            });
            long start = System.nanoTime();
            change.call();
            String answer = reached.get(timeoutMs + 10_000, TimeUnit.MILLISECONDS);
            long millis = (System.nanoTime() - start) / 1_000_000;
            if (!"reached".equals(answer)) {
                throw new AssertionError(name + " did not answer through " + host + ":" + port + " within " + timeoutMs
                        + " ms of the change: " + answer);
            }
            return millis;
        }

        /** New TCP connections back to back: at most {@code max}, for at most {@code millis}. */
        public ConnectionRate rate(String host, int port, int max, long millis) throws IOException {
            return ConnectionRate.parse(ask("rate " + host + " " + port + " " + max + " " + millis));
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        teardown();
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // JVM already shutting down: the hook runs teardown itself.
            }
        }
    }

    private synchronized void teardown() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
        List<String> all = new ArrayList<>(namespaces);
        Collections.reverse(all);
        for (String ns : all) {
            try {
                run(List.of("ip", "netns", "del", ns));
            } catch (Exception e) {
                // keep removing the others
            }
        }
        namespaces.clear();
    }

    private void addNamespace(String ns) throws IOException, InterruptedException {
        Result r = run(List.of("ip", "netns", "add", ns));
        if (r.exit != 0) {
            throw new IllegalStateException("ip netns add " + ns + ": " + r.output);
        }
        namespaces.add(ns);
        if (ipv6) {
            // No duplicate address detection for the link-local addresses either (nodad covers only the ones the bed
            // adds): until a link's link-local passed it, the first packets through that link were lost (a first
            // connection took 2 s, or timed out).
            exec(ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
        }
        ip(ns, "link", "set", "lo", "up");
    }

    private void ip(String ns, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("ip", "-n", ns));
        argv.addAll(List.of(args));
        Result r = run(argv);
        if (r.exit != 0) {
            throw new IllegalStateException(String.join(" ", argv) + ": " + r.output);
        }
    }

    private void sysctl(String ns, String setting) throws IOException, InterruptedException {
        exec(ns, "sysctl", "-q", "-w", setting);
    }

    private Process startJava(String ns, String mainClass, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, java, "-Xmx64m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), mainClass));
        argv.addAll(List.of(args));
        Process process = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.add(process);
        return process;
    }

    record Result(int exit, String output) {
    }

    static Result run(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out + " (timed out)");
        }
        return new Result(p.exitValue(), out);
    }

    static boolean isRoot() {
        return "0".equals(uid());
    }

    private static String uid() {
        try {
            return run(List.of("id", "-u")).output.trim();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
