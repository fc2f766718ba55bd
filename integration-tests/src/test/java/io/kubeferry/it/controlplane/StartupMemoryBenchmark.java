package io.kubeferry.it.controlplane;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.BenchmarkScale;
import io.kubeferry.it.ClusterObjects;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.it.NetnsTestBed;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shipped agent as a node runs it: the runnable jar in a process of its own, started with the JVM options
 * the image and the DaemonSet use (dist/src/main/jvm/jvm.options, as {@code java @jvm.options -jar}), against
 * a real API server holding N Services x 5 endpoints. The process stays in the root namespace and programs the
 * bed's node namespace ({@code run --netns}), so it never touches the root one. Per run:
 * <ul>
 *   <li>start to rules: from the process start to the end of its first successful sync (its own
 *       {@code kubeproxy_sync_proxy_rules_last_timestamp_seconds}, polled on /metrics), checked against the
 *       KUBE-SVC chains in the node namespace's iptables-save;</li>
 *   <li>resident memory (VmRSS) and CPU seconds at steady state, a few seconds after the rules are complete,
 *       and the peak (VmHWM) at the end;</li>
 *   <li>programming latency: one Service's EndpointSlice moved between two real pods, timed until the new pod
 *       answers through its ClusterIP, so a JVM setting that saves memory cannot quietly cost latency.</li>
 * </ul>
 * Variants: the shipped options with the CDS archive the image builds (made here for this jar by the image's
 * own dist/src/main/jvm/cds-archive.sh), the same options without it, the JDK's defaults (what the image ran
 * before jvm.options existed), and any given as {@code -Dkube-ferry.benchmark.jvm-variants='NAME=OPTIONS|...'}
 * (OPTIONS space-separated, added after the shipped ones: a way to try a flag; a word {@code env:NAME=VALUE} sets
 * the agent's environment instead).
 * {@code -Dkube-ferry.benchmark.write-classlist=true} first records, in a training run, the classes the agent
 * loads into dist/src/main/jvm/classes.lst (commit it when the code's classes changed much).
 * {@code -Dkube-ferry.benchmark.jcmd='VM.native_memory summary,GC.class_histogram'} saves those jcmd outputs at
 * steady state under target/startup-memory/ (NMT needs -XX:NativeMemoryTracking=summary in the variant).
 * {@code -Dkube-ferry.benchmark.agent-args='--v=4'} adds arguments to the agent's command line (a timeline in its log).
 * Prints a table; asserts only that every run programmed every Service and that every move arrived. Small
 * size in the test run, 1,000 Services with -Dkube-ferry.benchmark=full.
 */
class StartupMemoryBenchmark {

    @RegisterExtension
    @Order(1)
    static final NetnsTestBed BED = new NetnsTestBed();

    @RegisterExtension
    @Order(2)
    static final RealControlPlane CONTROL_PLANE = new RealControlPlane();

    private static final Path JAR = Path.of("..", "dist", "target", "kube-ferry.jar").toAbsolutePath().normalize();
    /** The one list of JVM options the image, the DaemonSet and this benchmark share. */
    static final Path JVM_OPTIONS = Path.of("..", "dist", "src", "main", "jvm", "jvm.options").toAbsolutePath().normalize();
    /** The classes the agent loads up to its first sync, for the image's CDS archive (dist/src/main/jvm/cds-archive.sh). */
    static final Path CLASS_LIST = JVM_OPTIONS.resolveSibling("classes.lst");
    private static final Path CDS_ARCHIVE_SCRIPT = JVM_OPTIONS.resolveSibling("cds-archive.sh");
    private static final String JAVA = ProcessHandle.current().info().command().orElse("java");
    private static final Path OUT = Path.of("target", "startup-memory").toAbsolutePath();

    private static final int SERVICES = BenchmarkScale.pick(List.of(100), List.of(1_000)).get(0);
    /** Runs per variant; {@code -Dkube-ferry.benchmark.runs=N} overrides (one run is enough to try a flag). */
    private static final int RUNS = Integer.getInteger("kube-ferry.benchmark.runs", BenchmarkScale.pick(List.of(1), List.of(3)).get(0));
    /** Endpoint moves per run; {@code -Dkube-ferry.benchmark.samples=N} overrides. */
    private static final int SAMPLES = Integer.getInteger("kube-ferry.benchmark.samples",
            BenchmarkScale.pick(List.of(3), List.of(10)).get(0));
    /** After the first sync: long enough for the JIT and the informers' bookkeeping to settle. */
    private static final long SETTLE_MS = BenchmarkScale.pick(List.of(3_000L), List.of(15_000L)).get(0);
    private static final String PROBE = "sum-probe";
    private static final String PROBE_IP = "198.19.255.10";
    private static final Pattern LAST_SYNC = Pattern.compile("(?m)^kubeproxy_sync_proxy_rules_last_timestamp_seconds\\{[^}]*} (\\S+)$");
    private static final long CLOCK_TICKS = 100; // USER_HZ on Linux

    /** A JVM configuration to run the agent with. */
    record Variant(String name, List<String> options) {
    }

    /** One run's figures. */
    record Run(long startToRulesMs, double cpuAtRulesS, long rssKb, long anonKb, long hwmKb, double cpuSteadyS, int threads,
            List<Long> latenciesMs) {
    }

    private String probeOn = "sum-a";

    @Test
    void startToRulesMemoryAndLatencyOfTheShippedProcess() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "the shipped jar is built first (mvn -pl dist -am package): " + JAR);
        KubernetesClient client = CONTROL_PLANE.client();
        NetnsTestBed.Pod a = BED.addPod("sum-a", 60);
        NetnsTestBed.Pod b = BED.addPod("sum-b", 61);
        client.resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().build()).create();
        // The probe first: its fixed ClusterIP cannot then be taken by one the API server allocated.
        client.resource(ClusterObjects.service(PROBE, PROBE_IP, "TCP", 80, 8080).build()).create();
        client.resource(ClusterObjects.slice(PROBE, "TCP", 8080, Ep.ready(a.ip(), "node-a"))).create();
        ServiceFleet.create(client, "sum-", SERVICES, ServiceFleet::background);
        Files.createDirectories(OUT);
        Path kubeconfig = OUT.resolve("kubeconfig");
        Files.writeString(kubeconfig, CONTROL_PLANE.controlPlane().kubeconfig());
        Map<String, NetnsTestBed.Pod> pods = Map.of("sum-a", a, "sum-b", b);

        if (Boolean.getBoolean("kube-ferry.benchmark.write-classlist")) {
            // A training run: what the agent loads up to its first sync and a few partial syncs, for the archive.
            Files.deleteIfExists(CLASS_LIST);
            run(new Variant("training", List.of("@" + JVM_OPTIONS, "-XX:DumpLoadedClassList=" + CLASS_LIST)), 0, kubeconfig, client, pods);
            System.out.println("wrote " + CLASS_LIST);
        }
        List<Variant> variants = variants();
        List<List<Run>> results = new ArrayList<>();
        for (Variant variant : variants) {
            List<Run> runs = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                Run r = run(variant, i, kubeconfig, client, pods);
                runs.add(r);
                // Each run as it ends, so a run that fails later leaves these behind.
                System.out.printf("run %s #%d: %s%n", variant.name(), i, r);
            }
            results.add(runs);
        }
        System.out.println(table(variants, results));
    }

    /**
     * The shipped options with the image's CDS archive, built for this jar by the image's own script; the same
     * without the archive (what {@code java @jvm.options -jar} gives outside the image); the JDK's defaults.
     */
    private static List<Variant> variants() throws Exception {
        List<Variant> variants = new ArrayList<>();
        List<String> shipped = Files.isRegularFile(JVM_OPTIONS) ? List.of("@" + JVM_OPTIONS) : List.of();
        if (!shipped.isEmpty() && Files.isRegularFile(CLASS_LIST)) {
            Path archive = OUT.resolve("kube-ferry.jsa");
            Files.deleteIfExists(archive);
            ProcessBuilder dump = new ProcessBuilder(CDS_ARCHIVE_SCRIPT.toString(), JAR.toString(), archive.toString())
                    .redirectErrorStream(true).redirectOutput(OUT.resolve("cds-archive.log").toFile());
            dump.environment().put("PATH", Path.of(JAVA).getParent() + ":" + System.getenv("PATH"));
            Process p = dump.start();
            assertTrue(p.waitFor(5, TimeUnit.MINUTES) && p.exitValue() == 0 && Files.isRegularFile(archive),
                    "cds-archive.sh failed; see " + OUT.resolve("cds-archive.log"));
            // -Xshare:on: a run that silently fell back to no archive would be measured under the wrong name.
            variants.add(new Variant("shipped (jvm.options + CDS archive)", List.of("@" + JVM_OPTIONS, "-XX:SharedArchiveFile=" + archive,
                    "-Xshare:on")));
        }
        // -Dkube-ferry.benchmark.only-shipped=true: the shipped variant and the given ones only (trying a flag).
        if (!Boolean.getBoolean("kube-ferry.benchmark.only-shipped")) {
            if (!shipped.isEmpty()) {
                variants.add(new Variant("jvm.options, no CDS archive", shipped));
            }
            variants.add(new Variant("JDK 17 defaults (before)", List.of()));
        }
        String extra = System.getProperty("kube-ferry.benchmark.jvm-variants", "").strip();
        for (String spec : extra.isEmpty() ? new String[0] : extra.split("\\|")) {
            int eq = spec.indexOf('=');
            List<String> options = new ArrayList<>(shipped);
            options.addAll(List.of(spec.substring(eq + 1).strip().split("\\s+")));
            variants.add(new Variant(spec.substring(0, eq).strip(), options));
        }
        return variants;
    }

    private Run run(Variant variant, int index, Path kubeconfig, KubernetesClient client, Map<String, NetnsTestBed.Pod> pods)
            throws Exception {
        cleanup();
        int metricsPort = freePort();
        List<String> argv = new ArrayList<>(List.of(JAVA));
        argv.addAll(variant.options());
        argv.addAll(List.of("-jar", JAR.toString(), "run", "--netns", BED.nodeNs(), "--kubeconfig", kubeconfig.toString(),
                "--hostname-override", "node-a", "--cluster-cidr", NetnsTestBed.POD_CIDR,
                "--metrics-bind-address", "127.0.0.1:" + metricsPort, "--healthz-bind-address", "127.0.0.1:" + freePort()));
        String agentArgs = System.getProperty("kube-ferry.benchmark.agent-args", "").strip();
        if (!agentArgs.isEmpty()) {
            argv.addAll(List.of(agentArgs.split("\\s+")));
        }
        String label = variant.name().replaceAll("[^A-Za-z0-9]+", "-") + "-" + index;
        Path log = OUT.resolve(label + ".log");
        long startedMs = System.currentTimeMillis();
        ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile());
        // A variant's env:NAME=VALUE words set the agent's environment (e.g. env:MALLOC_ARENA_MAX=2), the rest are JVM options.
        argv.removeIf(word -> {
            if (!word.startsWith("env:")) {
                return false;
            }
            int eq = word.indexOf('=');
            builder.environment().put(word.substring(4, eq), word.substring(eq + 1));
            return true;
        });
        Process agent = builder.start();
        try {
            double lastSync = awaitFirstSync(agent, metricsPort, log);
            long startToRules = Math.round(lastSync * 1000) - startedMs;
            double cpuAtRules = cpuSeconds(agent.pid());
            String nat = BED.exec(BED.nodeNs(), "iptables-nft-save", "-t", "nat");
            long chains = nat.lines().filter(l -> l.startsWith(":KUBE-SVC-")).count();
            // The fleet and the probe (the API server's own "kubernetes" Service has no endpoints here, so no chain).
            assertTrue(chains >= SERVICES + 1, variant.name() + ": every Service has its chain after the first sync, got " + chains);
            Thread.sleep(SETTLE_MS);
            Map<String, Long> status = status(agent.pid());
            double cpuSteady = cpuSeconds(agent.pid());
            if (!jcmds().isEmpty()) {
                // Which mappings the resident memory is in (heap, class-data archive, libjvm, malloc arenas).
                Files.copy(Path.of("/proc", String.valueOf(agent.pid()), "smaps"), OUT.resolve(label + "-smaps.txt"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            for (String command : jcmds()) {
                Path to = OUT.resolve(label + "-" + command.replaceAll("[^A-Za-z0-9]+", "_") + ".txt");
                List<String> jcmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        String.valueOf(agent.pid())));
                jcmd.addAll(List.of(command.split("\\s+")));
                new ProcessBuilder(jcmd).redirectErrorStream(true).redirectOutput(to.toFile()).start().waitFor(60, TimeUnit.SECONDS);
            }
            List<Long> latencies = latencies(client, pods);
            long hwm = status(agent.pid()).get("VmHWM");
            return new Run(startToRules, cpuAtRules, status.get("VmRSS"), status.get("RssAnon"), hwm, cpuSteady,
                    status.get("Threads").intValue(), latencies);
        } finally {
            agent.destroy();
            if (!agent.waitFor(20, TimeUnit.SECONDS)) {
                agent.destroyForcibly();
                agent.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Polls the agent's /metrics until its first successful sync; returns that sync's wall-clock time in seconds. */
    private static double awaitFirstSync(Process agent, int port, Path log) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(2))
                .build();
        long deadline = System.currentTimeMillis() + 5 * 60_000;
        while (System.currentTimeMillis() < deadline) {
            assertTrue(agent.isAlive(), () -> "the agent exited " + agent.exitValue() + "; log:\n" + tail(log));
            try {
                Matcher m = LAST_SYNC.matcher(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
                if (m.find() && Double.parseDouble(m.group(1)) > 0) {
                    return Double.parseDouble(m.group(1));
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no successful sync within 5 minutes; log:\n" + tail(log));
    }

    /** Moves the probe Service between the two pods SAMPLES times, each timed until the new pod answers. */
    private List<Long> latencies(KubernetesClient client, Map<String, NetnsTestBed.Pod> pods) throws Exception {
        NetnsTestBed.Client c = BED.client();
        List<Long> latencies = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            String to = probeOn.equals("sum-a") ? "sum-b" : "sum-a";
            // Past minSyncPeriod (1 s) since the previous sync: each move starts a sync of its own.
            Thread.sleep(1200);
            NetnsTestBed.Pod target = pods.get(to);
            latencies.add(c.millisUntil(PROBE_IP, 80, target.name(), 30_000,
                    () -> client.resource(ClusterObjects.slice(PROBE, "TCP", 8080, Ep.ready(target.ip(), "node-a"))).update()));
            probeOn = to;
        }
        return latencies;
    }

    /** The agent's own cleanup, so every run starts from an empty node namespace and writes every rule. */
    private static void cleanup() throws Exception {
        Process p = new ProcessBuilder(JAVA, "-XX:TieredStopAtLevel=1", "-jar",
                JAR.toString(), "cleanup", "--netns", BED.nodeNs(), "--hostname-override", "node-a")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "cleanup: " + out);
    }

    private static List<String> jcmds() {
        String spec = System.getProperty("kube-ferry.benchmark.jcmd", "").strip();
        return spec.isEmpty() ? List.of() : List.of(spec.split(","));
    }

    /** VmRSS, RssAnon, VmHWM (kB) and Threads from /proc/PID/status. */
    private static Map<String, Long> status(long pid) throws IOException {
        Map<String, Long> values = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            String[] f = line.split("\\s+");
            if (List.of("VmRSS:", "RssAnon:", "VmHWM:", "Threads:").contains(f[0])) {
                values.put(f[0].substring(0, f[0].length() - 1), Long.parseLong(f[1]));
            }
        }
        return values;
    }

    /** utime + stime from /proc/PID/stat (fields 14 and 15, counted after the parenthesised command name). */
    private static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) CLOCK_TICKS;
    }

    private static String table(List<Variant> variants, List<List<Run>> results) {
        StringBuilder t = new StringBuilder(
                String.format("%nShipped agent process: start to rules, memory, CPU and latency (%s size, %d Services x %d "
                        + "endpoints, iptables-nft, %d run(s) each, steady state %d s after the first sync; medians over runs, latency over all "
                        + "samples)%n%n", BenchmarkScale.name(), SERVICES, ServiceFleet.ENDPOINTS_PER_SERVICE, RUNS, SETTLE_MS / 1000));
        t.append("| JVM | start to rules ms | CPU s at rules | RSS MB | of it anonymous MB | peak RSS MB | CPU s steady | threads "
                + "| latency p50 ms | latency max ms |\n");
        t.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int i = 0; i < variants.size(); i++) {
            List<Run> runs = results.get(i);
            List<Long> lat = new ArrayList<>();
            runs.forEach(r -> lat.addAll(r.latenciesMs()));
            Collections.sort(lat);
            t.append(String.format("| %s | %d | %.2f | %.0f | %.0f | %.0f | %.2f | %d | %d | %d |%n", variants.get(i).name(),
                    median(runs.stream().map(r -> (double) r.startToRulesMs()).toList()).longValue(),
                    median(runs.stream().map(Run::cpuAtRulesS).toList()),
                    median(runs.stream().map(r -> r.rssKb() / 1024.0).toList()),
                    median(runs.stream().map(r -> r.anonKb() / 1024.0).toList()),
                    median(runs.stream().map(r -> r.hwmKb() / 1024.0).toList()),
                    median(runs.stream().map(Run::cpuSteadyS).toList()),
                    median(runs.stream().map(r -> (double) r.threads()).toList()).intValue(),
                    lat.get(lat.size() / 2), lat.get(lat.size() - 1)));
        }
        t.append(String.format("%nper run (start to rules ms / RSS MB):%n"));
        for (int i = 0; i < variants.size(); i++) {
            t.append("  ").append(variants.get(i).name()).append(":");
            for (Run r : results.get(i)) {
                t.append(String.format(" %d/%.0f", r.startToRulesMs(), r.rssKb() / 1024.0));
            }
            t.append('\n');
        }
        return t.toString();
    }

    private static Double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
