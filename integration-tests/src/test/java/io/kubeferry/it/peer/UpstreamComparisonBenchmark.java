package io.kubeferry.it.peer;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.BenchmarkScale;
import io.kubeferry.it.ClusterObjects;
import io.kubeferry.it.ClusterObjects.Ep;
import io.kubeferry.it.ConnectionRate;
import io.kubeferry.it.NetnsTestBed;
import io.kubeferry.it.controlplane.ControlPlane;
import io.kubeferry.it.controlplane.ServiceFleet;
import io.kubeferry.it.peer.AgentProcess.Kind;
import io.kubeferry.it.peer.AgentRun.Flavour;
import io.kubeferry.it.peer.AgentRun.Quantity;
import io.kubeferry.proxy.state.EndpointSliceConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kube-ferry against upstream kube-proxy 1.35.4, in one run on one machine: the same API server, the same
 * objects (N Services x 5 endpoints, plus a few probe Services backed by real pods), the agents one after the
 * other in the same node namespace ({@link PeerBed}), each reset clean between runs. Per size and agent:
 * <ul>
 *   <li><b>full sync</b>, in iptables mode with iptables-legacy and iptables-nft (kubelet's hint chain for
 *       kube-ferry, the tools on PATH for kube-proxy) and in nftables mode: from process start until the first
 *       complete ruleset (checked: one Service chain per Service), and the agent's own
 *       {@code kubeproxy_sync_proxy_rules_duration_seconds};</li>
 *   <li>then, in the steady-state flavours only (nftables mode, and iptables mode with nft;
 *       {@code -Dkube-ferry.benchmark.iptables=legacy} for legacy):
 *       resident memory and CPU seconds after a settling pause, CPU seconds over an idle period (largest size),
 *       new TCP connections per second through the probes' ClusterIPs and straight to a pod, and network
 *       programming latency: a probe's EndpointSlice moved to the other pod, timed from the API write until that
 *       pod answers through the ClusterIP (the client polls), with the agent's own
 *       {@code kubeproxy_network_programming_duration_seconds} over the same changes.</li>
 * </ul>
 * Writes the report (Markdown tables with ratios and targets, PNG bar charts) to
 * {@code -Dkube-ferry.benchmark.docs=DIR} (dev/bench.sh: docs/benchmarks) or else target/benchmarks, and prints
 * it. Targets are reported, never asserted; the test asserts only that every run got its rules complete and
 * every change arrived. Small sizes in the test run (CI); the sizes of issue 10 with -Dkube-ferry.benchmark=full.
 * {@code -Dkube-ferry.benchmark.upstream.modes=nftables} (or iptables-legacy, iptables-nft, comma-separated) runs
 * only those flavours and writes upstream-&lt;flavours&gt;.md instead of upstream.md, so a run of one mode does not
 * replace the page of all of them.
 */
class UpstreamComparisonBenchmark {

    @RegisterExtension
    static final PeerBed BED = new PeerBed();

    /**
     * Every size runs the steady-state flavour; the largest runs the idle-CPU period.
     * {@code -Dkube-ferry.benchmark.upstream.sizes=100,1000} picks others (e.g. a full-scale run short of 10,000).
     */
    static final List<Integer> SIZES = sizes(BenchmarkScale.pick(List.of(50, 100), List.of(100, 1_000, 10_000)));
    /** Sizes whose full sync is measured with both flavours. */
    static final List<Integer> BOTH_FLAVOURS = among(BenchmarkScale.pick(List.of(100), List.of(1_000, 10_000)));
    /** Sizes with network programming samples (the scaling figure compares the first and last). */
    static final List<Integer> LATENCY_SIZES = among(BenchmarkScale.pick(List.of(50, 100), List.of(1_000, 10_000)));
    static final int SAMPLES = BenchmarkScale.pick(List.of(5), List.of(20)).get(0);
    /** Probe Services (one endpoint on a real pod each): latency samples cycle through them; data path uses all. */
    static final int PROBES = BenchmarkScale.pick(List.of(3), List.of(5)).get(0);
    static final Duration IDLE = BenchmarkScale.pick(List.of(Duration.ofSeconds(10)), List.of(Duration.ofSeconds(60))).get(0);
    static final Duration SETTLE = BenchmarkScale.pick(List.of(Duration.ofSeconds(2)), List.of(Duration.ofSeconds(10))).get(0);
    /** Each connection-rate measurement: at most this many connections a loop, RATE_MILLIS in all. */
    static final int RATE_MAX = BenchmarkScale.pick(List.of(2_000), List.of(50_000)).get(0);
    static final long RATE_MILLIS = BenchmarkScale.pick(List.of(1_500L), List.of(15_000L)).get(0);
    /** Each rate is measured in this many rounds of RATE_MILLIS / RATE_ROUNDS; the best counts. */
    static final int RATE_ROUNDS = 3;
    /** Start to rules complete may take minutes at 10,000 Services with iptables-nft (the tool's cost). */
    static final Duration SYNC_LIMIT = BenchmarkScale.pick(List.of(Duration.ofMinutes(3)), List.of(Duration.ofMinutes(60))).get(0);
    static final long CHANGE_TIMEOUT_MS = BenchmarkScale.pick(List.of(60_000L), List.of(900_000L)).get(0);
    static final Flavour STEADY = "legacy".equals(System.getProperty("kube-ferry.benchmark.iptables"))
            ? Flavour.IPTABLES_LEGACY
            : Flavour.IPTABLES_NFT;
    /** The flavours this run measures, in order (all unless -Dkube-ferry.benchmark.upstream.modes names some). */
    static final List<Flavour> FLAVOURS = flavours();
    /** Measured with memory, data path and latency, at every size; the other iptables flavour only at BOTH_FLAVOURS. */
    static final List<Flavour> STEADY_FLAVOURS = List.of(STEADY, Flavour.NFTABLES);
    /** upstream, or upstream-nftables and the like for a run of some flavours only: the page's and plots' names. */
    static final String PAGE = FLAVOURS.size() == Flavour.values().length
            ? "upstream"
            : "upstream-" + FLAVOURS.stream().map(Flavour::label).collect(java.util.stream.Collectors.joining("-"));
    static final Path OUT = Path.of(System.getProperty("kube-ferry.benchmark.docs", "target/benchmarks")).toAbsolutePath();
    private static final String PREFIX = "up-";
    private static final String POD_A = "up-a";
    private static final String POD_B = "up-b";
    private static final String IP_FAMILY = "ip_family";
    private static final String SYNC_HISTOGRAM = "kubeproxy_sync_proxy_rules_duration_seconds";

    /** Which pod each probe Service points at now (the latency samples move them back and forth). */
    private final Map<Integer, NetnsTestBed.Pod> probeOn = new HashMap<>();
    private final List<String> failures = new ArrayList<>();

    @Test
    void kubeFerryAgainstUpstreamKubeProxy() throws Exception {
        BED.assumeAvailable(Kind.KUBE_PROXY);
        BED.assumeAvailable(Kind.KUBE_FERRY);
        KubernetesClient client = BED.client();
        NetnsTestBed.Pod a = BED.netns().addPod(POD_A, 60);
        NetnsTestBed.Pod b = BED.netns().addPod(POD_B, 61);
        List<AgentRun> runs = new ArrayList<>();
        int created = 0;
        long start = System.nanoTime();
        for (int services : SIZES) {
            long creating = System.nanoTime();
            // Services 0 .. PROBES-1 are the probes, each on pod a; the rest fill the rules with 5 endpoints each.
            ServiceFleet.grow(client, PREFIX, created, services,
                    i -> i < PROBES ? new Ep[] {Ep.ready(a.ip(), PeerBed.NODE)} : ServiceFleet.background(i));
            for (int i = created; i < Math.min(PROBES, services); i++) {
                probeOn.put(i, a);
            }
            System.out.printf("upstream comparison: %,d Services x %d endpoints created in %d ms%n", services,
                    ServiceFleet.ENDPOINTS_PER_SERVICE, (System.nanoTime() - creating) / 1_000_000);
            created = services;
            for (Flavour flavour : FLAVOURS) {
                if (!STEADY_FLAVOURS.contains(flavour) && !BOTH_FLAVOURS.contains(services)) {
                    continue;
                }
                for (Kind kind : List.of(Kind.KUBE_PROXY, Kind.KUBE_FERRY)) {
                    runs.add(run(kind, flavour, services, a, b));
                }
            }
        }
        ComparisonReport report = report(runs, (System.nanoTime() - start) / 1_000_000_000);
        write(report);
        assertTrue(failures.isEmpty(), "every run completed its rules and every change arrived:\n" + String.join("\n", failures));
    }

    /** One agent at one size and flavour: full sync, then (steady flavours) memory, CPU, data path and latency. */
    private AgentRun run(Kind kind, Flavour flavour, int services, NetnsTestBed.Pod a, NetnsTestBed.Pod b) throws Exception {
        Map<Quantity, Double> values = new EnumMap<>(Quantity.class);
        Optional<String> failure = Optional.empty();
        AgentConfig config = BED.config(flavour.backend(), flavour.mode(), "");
        String what = String.format(Locale.ROOT, "%s, %s, %,d Services", kind.label(), flavour.label(), services);
        try (AgentProcess agent = BED.start(kind, config)) {
            Duration complete = agent.awaitSynced(SYNC_LIMIT);
            String metrics = agent.metrics();
            long chains = serviceChains(flavour);
            values.put(Quantity.FIRST_SYNC_SERVICES, 100.0 * chains / services);
            // The first sync should hold every Service (both agents wait for the initial lists); when it does not,
            // the rules are complete only once a later sync has added the rest: the kernel is polled until then
            // (an upper bound by one iptables-save).
            while (chains < services && Duration.between(agent.startedAt(), Instant.now()).compareTo(SYNC_LIMIT) < 0) {
                Thread.sleep(20);
                chains = serviceChains(flavour);
                complete = Duration.between(agent.startedAt(), Instant.now());
            }
            values.put(Quantity.START_TO_RULES, complete.toNanos() / 1e9);
            if (chains != services) {
                throw new IllegalStateException(
                        "the rules hold " + chains + " Service chains for " + services + " Services after " + SYNC_LIMIT);
            }
            values.put(Quantity.OWN_SYNC, mean(metrics, SYNC_HISTOGRAM, null));
            if (STEADY_FLAVOURS.contains(flavour)) {
                steadyState(agent, services, values);
                dataPath(services, a, values);
                if (LATENCY_SIZES.contains(services)) {
                    latency(agent, a, b, values);
                }
            }
        } catch (Exception | AssertionError e) {
            failure = Optional.of(e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()));
            failures.add(what + ": " + e);
            System.out.println("upstream comparison: " + what + " failed: " + e);
        } finally {
            try {
                BED.reset(kind, config);
            } catch (Exception e) {
                failures.add(what + ": reset: " + e);
                throw e;
            }
        }
        System.out.println("upstream comparison: " + what + ": " + values);
        return new AgentRun(kind, flavour, services, values, failure);
    }

    private void steadyState(AgentProcess agent, int services, Map<Quantity, Double> values) throws Exception {
        Thread.sleep(SETTLE.toMillis());
        values.put(Quantity.RSS, agent.rssKib() / 1024.0);
        values.put(Quantity.CPU_TO_STEADY, agent.cpuSeconds());
        values.put(Quantity.CPU_TO_STEADY_TOOLS, agent.cpuSecondsWithTools());
        if (services == SIZES.get(SIZES.size() - 1)) {
            double before = agent.cpuSeconds();
            double beforeWithTools = agent.cpuSecondsWithTools();
            Thread.sleep(IDLE.toMillis());
            values.put(Quantity.CPU_IDLE, agent.cpuSeconds() - before);
            values.put(Quantity.CPU_IDLE_TOOLS, agent.cpuSecondsWithTools() - beforeWithTools);
        }
    }

    /**
     * Connections per second through every probe's ClusterIP (sharing the loop's time) and straight to pod a, in
     * RATE_ROUNDS alternating rounds; the best round counts, since anything else on the machine only ever lowers
     * a rate (the agent's own JIT right after start, another process's burst).
     */
    private void dataPath(int services, NetnsTestBed.Pod a, Map<Quantity, Double> values) throws Exception {
        NetnsTestBed.Client c = BED.netns().client();
        // The client's JVM warms up first (its JIT): otherwise whichever agent is measured first pays for it.
        c.rate(a.ip(), 8080, RATE_MAX / 4, RATE_MILLIS / 4);
        int probes = Math.min(PROBES, services);
        double viaClusterIP = 0;
        double toPod = 0;
        for (int round = 0; round < RATE_ROUNDS; round++) {
            int ok = 0;
            long millis = 0;
            for (int i = 0; i < probes; i++) {
                ConnectionRate r = c.rate(clusterIP(i), 80, RATE_MAX / probes, RATE_MILLIS / probes / RATE_ROUNDS);
                if (r.failed() > 0) {
                    throw new IllegalStateException("through " + PREFIX + i + "'s ClusterIP: " + r);
                }
                ok += r.ok();
                millis += r.millis();
            }
            viaClusterIP = Math.max(viaClusterIP, new ConnectionRate(ok, 0, millis, "").perSecond());
            ConnectionRate pod = c.rate(a.ip(), 8080, RATE_MAX, RATE_MILLIS / RATE_ROUNDS);
            if (pod.failed() > 0) {
                throw new IllegalStateException("straight to " + a.name() + ": " + pod);
            }
            toPod = Math.max(toPod, pod.perSecond());
        }
        values.put(Quantity.RATE_CLUSTER_IP, viaClusterIP);
        values.put(Quantity.RATE_POD, toPod);
    }

    /**
     * SAMPLES changes, each moving one probe to the other pod, past minSyncPeriod (1 s) since the last so each
     * gets a sync of its own. The slice carries the trigger-time annotation an EndpointSlice controller would
     * set, from which both agents compute their own programming latency.
     */
    private void latency(AgentProcess agent, NetnsTestBed.Pod a, NetnsTestBed.Pod b, Map<Quantity, Double> values) throws Exception {
        NetnsTestBed.Client c = BED.netns().client();
        String before = agent.metrics();
        List<Long> inOrder = new ArrayList<>();
        // The agent's sync count before each sample and at the end: a sample whose interval holds two syncs met
        // another one (a periodic sync) besides its own. Scraped past the sync, since the count moves only once
        // the agent is done with its post-apply steps, a little after the kernel has the rules.
        double[] syncs = new double[SAMPLES + 1];
        for (int i = 0; i < SAMPLES; i++) {
            int probe = i % PROBES;
            NetnsTestBed.Pod to = probeOn.get(probe) == a ? b : a;
            String vip = clusterIP(probe);
            Thread.sleep(1200);
            syncs[i] = sample(agent.metrics(), SYNC_HISTOGRAM + "_count");
            EndpointSlice slice = ClusterObjects.slice(PREFIX + probe, "TCP", 8080, Ep.ready(to.ip(), PeerBed.NODE));
            inOrder.add(c.millisUntil(vip, 80, to.name(), CHANGE_TIMEOUT_MS, () -> BED.client().resource(new EndpointSliceBuilder(slice)
                    .editMetadata().addToAnnotations(EndpointSliceConverter.TRIGGER_TIME, Instant.now().toString()).endMetadata().build())
                    .update()));
            probeOn.put(probe, to);
        }
        Thread.sleep(1200);
        String after = agent.metrics();
        syncs[SAMPLES] = sample(after, SYNC_HISTOGRAM + "_count");
        List<String> trace = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            trace.add(inOrder.get(i) + " ms/" + (long) (syncs[i + 1] - syncs[i]) + " syncs");
        }
        System.out.println("upstream comparison: " + agent.kind().label() + " latency samples in order (syncs in each interval): " + trace);
        List<Long> latencies = new ArrayList<>(inOrder);
        Collections.sort(latencies);
        values.put(Quantity.LATENCY_P50, (double) percentile(latencies, 0.50));
        values.put(Quantity.LATENCY_P90, (double) percentile(latencies, 0.90));
        values.put(Quantity.LATENCY_P99, (double) percentile(latencies, 0.99));
        values.put(Quantity.OWN_PROGRAMMING, 1000 * mean(after, "kubeproxy_network_programming_duration_seconds", before));
    }

    private static List<Flavour> flavours() {
        String given = System.getProperty("kube-ferry.benchmark.upstream.modes", "").strip();
        return given.isEmpty()
                ? List.of(Flavour.values())
                : Arrays.stream(given.split(",")).map(String::strip).map(Flavour::of).distinct().sorted().toList();
    }

    private static List<Integer> sizes(List<Integer> defaults) {
        String given = System.getProperty("kube-ferry.benchmark.upstream.sizes", "").strip();
        return given.isEmpty() ? defaults : Arrays.stream(given.split(",")).map(String::strip).map(Integer::valueOf).sorted().toList();
    }

    /** {@code wanted} where SIZES has it; with other sizes given, the largest of them stands in. */
    private static List<Integer> among(List<Integer> wanted) {
        List<Integer> kept = wanted.stream().filter(SIZES::contains).toList();
        return kept.isEmpty() ? List.of(SIZES.get(SIZES.size() - 1)) : kept;
    }

    /** Nearest rank: the smallest sample with at least {@code p} of the samples at or below it. */
    static long percentile(List<Long> sorted, double p) {
        return sorted.get((int) Math.ceil(p * sorted.size()) - 1);
    }

    /**
     * A histogram's mean from its IPv4 _sum and _count (exact, unlike quantiles from its coarse buckets), over the
     * observations since {@code since} (an earlier scrape) or all of them; NaN when there were none.
     */
    static double mean(String metrics, String histogram, String since) {
        double sum = sample(metrics, histogram + "_sum");
        double count = sample(metrics, histogram + "_count");
        if (since != null) {
            sum -= sample(since, histogram + "_sum");
            count -= sample(since, histogram + "_count");
        }
        return count > 0 ? sum / count : Double.NaN;
    }

    private static double sample(String metrics, String name) {
        double v = io.kubeferry.proxy.testing.UpstreamMetrics.value(metrics, name, IP_FAMILY, "IPv4");
        return Double.isNaN(v) ? 0 : v;
    }

    /**
     * Service chains in the kernel: one per Service port with endpoints (each of ours has one port and endpoints):
     * KUBE-SVC-... in iptables mode; service-HASH-ns/name/proto/port in nftables mode (both agents' layout), not the
     * endpoint-... chains nor the fixed service-endpoints-check.
     */
    private static long serviceChains(Flavour flavour) throws IOException, InterruptedException {
        if (flavour == Flavour.NFTABLES) {
            // nft 1.0.6 lists the chains of a family, not of one table: those under "table ip kube-proxy {" count.
            long count = 0;
            boolean inTable = false;
            for (String line : BED.execInNode("nft", "list", "chains", "ip").lines().map(String::strip).toList()) {
                if (line.startsWith("table ")) {
                    inTable = line.equals("table ip kube-proxy {");
                } else if (inTable && line.startsWith("chain service-") && line.indexOf('/') >= 0) {
                    // service-HASH-ns/name/proto/port; not the fixed service-endpoints-check
                    count++;
                }
            }
            return count;
        }
        return BED.iptablesSave(flavour.backend()).lines().filter(l -> l.startsWith(":KUBE-SVC-")).count();
    }

    private static String clusterIP(int probe) {
        return BED.client().services().inNamespace(ClusterObjects.NAMESPACE).withName(PREFIX + probe).get().getSpec().getClusterIP();
    }

    private ComparisonReport report(List<AgentRun> runs, long seconds) {
        List<String> header = new ArrayList<>();
        String command = System.getProperty("kube-ferry.benchmark.command",
                "mvn -B -ntp -pl integration-tests -am verify -Dtest=UpstreamComparisonBenchmark -Dsurefire.failIfNoSpecifiedTests=false");
        String sizes = SIZES.stream().map(n -> String.format(Locale.ROOT, "%,d", n)).collect(java.util.stream.Collectors.joining(", "));
        if (!System.getProperty("kube-ferry.benchmark.upstream.sizes", "").isBlank()) {
            header.add("**Sizes chosen for this run: " + sizes + " Services (" + BenchmarkScale.name() + " settings otherwise); "
                    + "the full run covers 100, 1,000 and 10,000.**");
        } else {
            header.add(BenchmarkScale.full()
                    ? "Full sizes: " + sizes + " Services."
                    : "**Small sizes (the CI run: " + sizes + " Services): these figures only show that the benchmark works; "
                            + "the full sizes come from `dev/bench.sh`.**");
        }
        header.add("");
        header.add("Command: `" + command + "`.");
        header.add("");
        header.add(String.format(Locale.ROOT, "Written %s from commit %s in %d s, on %d cores, kernel %s.",
                Instant.now().toString().substring(0, 16) + "Z", commit(), seconds, Runtime.getRuntime().availableProcessors(), kernel()));
        header.add("Both agents, one after the other, in the same node network namespace, against the same etcd + kube-apiserver "
                + "(in that namespace, on its loopback), with the same KubeProxyConfiguration (the flavour's mode: iptables or "
                + "nftables; minSyncPeriod 1 s, syncPeriod 30 s); the namespace is reset clean between runs. Flavours in this run: "
                + FLAVOURS.stream().map(Flavour::label).collect(java.util.stream.Collectors.joining(", ")) + ".");
        header.add(String.format(Locale.ROOT,
                "Objects: N Services x %d endpoints (the first %d are probes with one endpoint on a real pod). "
                        + "Latency: %d samples per size and agent; data path: the best of " + RATE_ROUNDS
                        + " rounds, %,d ms in all per target; "
                        + "idle CPU over %d s at %,d Services; steady-state figures with %s.",
                ServiceFleet.ENDPOINTS_PER_SERVICE, PROBES,
                SAMPLES, RATE_MILLIS, IDLE.toSeconds(), SIZES.get(SIZES.size() - 1),
                STEADY_FLAVOURS.stream().filter(FLAVOURS::contains).map(Flavour::label)
                        .collect(java.util.stream.Collectors.joining(" and "))));
        header.add("kube-proxy: upstream 1.35.4 built by integration-tests/control-plane/provision.sh ("
                + ControlPlane.provisioned().map(ControlPlane::version).orElse("?") + "). kube-ferry: dist/target/kube-ferry.jar with "
                + ShippedJvm.current().description() + ".");
        header.add("Ratios are kube-ferry/kube-proxy (below 1: kube-ferry takes less; for connections/s above 1 is better). "
                + "Targets (issue 10; for nftables mode at 10,000 Services also issue 12's) are reported, never asserted.");
        int idle = (int) IDLE.toSeconds();
        return new ComparisonReport("kube-ferry against upstream kube-proxy", header, UpstreamFigures.figures(runs, idle),
                List.of(new ComparisonReport.Mode("IPVS", "IPVS: this kernel has no IPVS; kube-ferry's IPVS mode runs in a QEMU guest "
                        + "kernel, where the upstream peer is not run yet")),
                UpstreamFigures.descriptions(idle));
    }

    private static void write(ComparisonReport report) throws IOException {
        List<ReportPlots.Plot> plots = ReportPlots.plots(report, PAGE);
        String md = ReportMarkdown.render(report, plots);
        Files.createDirectories(OUT);
        Files.writeString(OUT.resolve(PAGE + ".md"), md, StandardCharsets.UTF_8);
        for (ReportPlots.Plot plot : plots) {
            ReportPlots.write(plot, OUT);
        }
        System.out.println();
        System.out.println(md);
        System.out.println("upstream comparison: written to " + OUT.resolve(PAGE + ".md") + " with " + plots.size() + " PNG plots");
    }

    private static String commit() {
        return command("git", "-C", ShippedJvm.REPOSITORY.toString(), "rev-parse", "--short", "HEAD");
    }

    private static String kernel() {
        return command("uname", "-r");
    }

    private static String command(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "unknown (" + String.join(" ", argv) + ": " + out + ")";
        } catch (IOException | InterruptedException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
