package io.kubeferry.proxy.conntrack;

import io.kubeferry.it.BenchmarkScale;
import io.kubeferry.it.NetnsTestBed;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the built-in conntrack hooks cost against a real kernel's conntrack table (issue 13): the real hook classes
 * (this class sits in their package to build them as their providers do) given a real {@link ConntrackChange},
 * running {@code conntrack} in a namespace of their own that holds N synthetic flows. The flows are inserted with
 * {@code conntrack -I ... --dst-nat EP:PORT}, which gives them the orig/reply tuples and DST_NAT status of a flow
 * DNATed from a Service IP to an endpoint, without sending N packets. Each row is the median and max of a few runs,
 * each on a freshly filled table; the processes column counts what the hook spawned. Correctness is checked where
 * cheap (the stale or cut flows are gone, the others stay, the count is exact); no timing is asserted.
 */
class ConntrackHookBenchmark {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    /** Flows per table: 1,000 in the test run (CI), 1,000 and 10,000 in the benchmark run. */
    static final List<Integer> SIZES = BenchmarkScale.pick(List.of(1_000), List.of(1_000, 10_000));
    static final int RUNS = 3;
    /** Endpoints of the Service in the "one of K removed" row. */
    static final int K = 10;
    static final String CLIENT = "198.18.1.2";
    static final String UDP_VIP = "198.19.0.53";
    static final String TCP_VIP = "198.19.0.80";
    static final String GONE = "198.18.0.7";
    static final String KEPT = "198.18.0.5";

    @Test
    void hookTimings() throws Exception {
        String ns = BED.bareNamespace("ct");
        assumeTrue(new ProcessBuilder("ip", "netns", "exec", ns, "conntrack", "--version").start().waitFor() == 0,
                "the conntrack hook benchmark needs conntrack-tools' conntrack");
        Table table = new Table();
        for (int n : SIZES) {
            staleUdpOnePort(ns, n, table);
            staleUdpOneOfK(ns, n, table);
            flushTcp(ns, n, table);
            serviceCounts(ns, n, table);
            runnerDelivery(n, table);
        }
        System.out.println(table.render());
    }

    /** Every one of the N flows to one UDP Service port answers from an endpoint that went. */
    private void staleUdpOnePort(String ns, int n, Table table) throws Exception {
        allFlowsOfGoneEndpoint(ns, n, table, "stale-udp: one Service port, all flows stale", ConntrackHookBenchmark::dns, 53,
                (tools, metrics) -> new StaleUdpConntrack(tools, metrics), "kubeproxy.conntrack.reconciler.deleted.entries");
    }

    /**
     * N flows to one Service port, all DNATed to an endpoint that leaves it (another one stays): the hook must delete
     * every one of them.
     */
    private void allFlowsOfGoneEndpoint(String ns, int n, Table table, String label,
            java.util.function.Function<Endpoint[], ResolvedService> service, int targetPort, HookFactory factory,
            String deletedCounter) throws Exception {
        ResolvedService before = service.apply(new Endpoint[] {endpoint(KEPT, targetPort), endpoint(GONE, targetPort)});
        ResolvedService after = service.apply(new Endpoint[] {endpoint(KEPT, targetPort)});
        String proto = after.port().protocol().lower();
        String target = after.port().clusterIP() + " " + after.port().port() + " " + GONE + ":" + targetPort;
        List<Run> runs = new ArrayList<>();
        for (int r = 0; r < RUNS; r++) {
            fill(ns, flows(proto, n, i -> target));
            runs.add(measure(ns, factory, before, after, deletedCounter));
            assertEquals(0, count(ns), "every flow of the gone endpoint is deleted");
        }
        table.row(label, n, runs);
    }

    /** N flows spread over K endpoints of one UDP Service port; one endpoint goes: its N/K flows, and only those. */
    private void staleUdpOneOfK(String ns, int n, Table table) throws Exception {
        List<Endpoint> all = new ArrayList<>();
        for (int e = 0; e < K; e++) {
            all.add(endpoint(endpointIp(e), 53));
        }
        ResolvedService before = dns(all.toArray(Endpoint[]::new));
        ResolvedService after = dns(all.subList(1, K).toArray(Endpoint[]::new));
        List<Run> runs = new ArrayList<>();
        for (int r = 0; r < RUNS; r++) {
            fill(ns, flows("udp", n, i -> UDP_VIP + " 53 " + endpointIp(i % K) + ":53"));
            Run run = staleUdp(ns, before, after);
            runs.add(run);
            int gone = (n + K - 1) / K;
            assertEquals(gone, run.entries(), "conntrack reports the gone endpoint's flows deleted");
            assertEquals(n - gone, count(ns), "the flows to serving endpoints stay");
        }
        table.row("stale-udp: 1 of " + K + " endpoints removed", n, runs);
    }

    private Run staleUdp(String ns, ResolvedService before, ResolvedService after) throws Exception {
        return measure(ns, (tools, metrics) -> new StaleUdpConntrack(tools, metrics), before, after,
                "kubeproxy.conntrack.reconciler.deleted.entries");
    }

    /** One hook call on a change from {@code before} to {@code after}: wall time, processes, what its counter says. */
    private static Run measure(String ns, HookFactory factory, ResolvedService before, ResolvedService after, String deleted)
            throws Exception {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        Counting tools = new Counting(new ProcessToolRunner(ns));
        ConntrackHook hook = factory.create(tools, metrics);
        ConntrackChange change = new ConntrackChange(state(before), state(after), Set.of(after.name()), false);
        long start = System.nanoTime();
        hook.afterSync(change);
        long nanos = System.nanoTime() - start;
        return new Run(nanos, tools.spawned.get(), (long) metrics.get(deleted).counter().count());
    }

    /** Builds a hook as its provider does, on the benchmark's tools and registry. */
    private interface HookFactory {

        ConntrackHook create(ToolRunner tools, SimpleMeterRegistry metrics);
    }

    /** N established TCP flows DNATed to one endpoint, which leaves the EndpointSlices (opted in): all cut. */
    private void flushTcp(String ns, int n, Table table) throws Exception {
        allFlowsOfGoneEndpoint(ns, n, table, "flush-tcp: one removed endpoint", ConntrackHookBenchmark::web, 8080,
                (tools, metrics) -> new RemovedEndpointTcpFlows(tools, true, metrics), "kubeferry.conntrack.tcp.deleted.entries");
    }

    /** One count over N TCP flows spread over S = N/10 Services (one table, counted RUNS times). */
    private void serviceCounts(String ns, int n, Table table) throws Exception {
        int services = n / 10;
        List<ResolvedService> ports = new ArrayList<>();
        for (int s = 0; s < services; s++) {
            ports.add(port("ns", "svc-" + s, "", Protocol.TCP, serviceIp(s), 80).resolve(endpoint(endpointIp(s % 200), 8080)));
        }
        ProxyState current = state(ports.toArray(ResolvedService[]::new));
        fill(ns, flows("tcp", n, i -> serviceIp(i % services) + " 80 " + endpointIp((i % services) % 200) + ":8080"));
        List<Run> runs = new ArrayList<>();
        for (int r = 0; r < RUNS; r++) {
            SimpleMeterRegistry metrics = new SimpleMeterRegistry();
            Counting tools = new Counting(new ProcessToolRunner(ns));
            ServiceConntrackCounts hook = new ServiceConntrackCounts(tools, Duration.ZERO, metrics);
            long start = System.nanoTime();
            hook.count(current);
            long nanos = System.nanoTime() - start;
            long total = (long) metrics.get("kubeferry.conntrack.entries").gauge().value();
            assertEquals(n, total, "every entry is listed");
            // Each Service has N/S flows: the top rows and "other" add up to every flow.
            double matched = metrics.find("kubeferry.conntrack.service.entries").gauges().stream().mapToDouble(g -> g.value())
                    .sum();
            assertEquals(n, (long) matched, "every flow is matched to its Service");
            hook.close();
            runs.add(new Run(nanos, tools.spawned.get(), total));
        }
        table.row("service-counts: " + services + " Services", n, runs);
    }

    /**
     * The runner's own cost: from {@link ConntrackHooks#synced} (the sync thread returns at once) to the hook's
     * {@code afterSync} starting on its thread, the change set computed in between (O(Service ports): N here).
     */
    private void runnerDelivery(int n, Table table) throws Exception {
        List<ResolvedService> ports = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            ports.add(port("ns", "svc-" + s, "", Protocol.TCP, serviceIp(s), 80).resolve(endpoint(endpointIp(s % 200), 8080)));
        }
        ProxyState before = state(ports.toArray(ResolvedService[]::new));
        ports.set(0, port("ns", "svc-0", "", Protocol.TCP, serviceIp(0), 80).resolve(endpoint(endpointIp(1), 8080)));
        ProxyState after = state(ports.toArray(ResolvedService[]::new));
        List<Run> runs = new ArrayList<>();
        for (int r = 0; r < RUNS + 2; r++) {
            CompletableFuture<Long> started = new CompletableFuture<>();
            ConntrackHook probe = new ConntrackHook() {

                @Override
                public String name() {
                    return "probe";
                }

                @Override
                public void afterSync(ConntrackChange change) {
                    started.complete(System.nanoTime());
                }
            };
            try (ConntrackHooks hooks = new ConntrackHooks(List.of(probe), Duration.ofSeconds(30), new SimpleMeterRegistry())) {
                Set<ServicePortName> changed = Set.of(ports.get(0).name());
                long synced = System.nanoTime();
                hooks.synced(before, after, changed, false);
                runs.add(new Run(started.get(30, TimeUnit.SECONDS) - synced, 0, 0));
            }
        }
        table.row("runner: synced() to hook start (N Services)", n, runs);
    }

    private static ResolvedService dns(Endpoint... endpoints) {
        return port("kube-system", "dns", "dns", Protocol.UDP, UDP_VIP, 53).resolve(endpoints);
    }

    private static ResolvedService web(Endpoint... endpoints) {
        return port("ns", "web", "", Protocol.TCP, TCP_VIP, 80).option(RemovedEndpointTcpFlows.ANNOTATION, "true")
                .resolve(endpoints);
    }

    private static String endpointIp(int i) {
        return "198.18.0." + (10 + i);
    }

    private static String serviceIp(int s) {
        return "198.19." + (1 + s / 250) + "." + (1 + s % 250);
    }

    /** One flow description per line: {@code proto sport vip vport ep:port}; sports from 1,024 keep tuples unique. */
    private interface Target {

        String of(int i);
    }

    private static List<String> flows(String proto, int n, Target target) {
        List<String> flows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            flows.add(proto + " " + (1024 + i) + " " + target.of(i));
        }
        return flows;
    }

    /**
     * Empties the namespace's table and inserts the flows: one shell in the namespace running one bounded
     * {@code conntrack -I} per flow (conntrack-tools has no batch insert), then checks that all of them are there.
     */
    private static void fill(String ns, List<String> flows) throws Exception {
        StringBuilder script = new StringBuilder("conntrack -F 2>/dev/null\n");
        for (String flow : flows) {
            String[] f = flow.split(" ");
            String status = f[0].equals("tcp") ? " --state ESTABLISHED -u SEEN_REPLY,ASSURED" : " -u SEEN_REPLY";
            script.append("conntrack -I -p ").append(f[0]).append(" -s ").append(CLIENT).append(" -d ").append(f[2])
                    .append(" --sport ").append(f[1]).append(" --dport ").append(f[3]).append(" -t 600").append(status)
                    .append(" --dst-nat ").append(f[4]).append('\n');
        }
        // Script and output through files: conntrack prints a line per insert, and a pipe nobody reads while the
        // script is still being written would fill and stall both sides.
        Path file = Files.createTempFile("kube-ferry-conntrack-fill-", ".sh");
        Path log = Files.createTempFile("kube-ferry-conntrack-fill-", ".log");
        List<String> out;
        try {
            Files.writeString(file, script);
            Process shell = new ProcessBuilder("ip", "netns", "exec", ns, "sh", file.toString()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!shell.waitFor(120, TimeUnit.SECONDS)) {
                shell.destroyForcibly();
                throw new IllegalStateException("inserting " + flows.size() + " conntrack entries in " + ns + " timed out");
            }
            // conntrack prints "1 flow entries have been created" for each; anything else is a reason to show.
            try (var lines = Files.lines(log)) {
                out = lines.filter(line -> !line.contains("have been created")).limit(5).toList();
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(log);
        }
        int there = count(ns);
        if (there != flows.size()) {
            throw new IllegalStateException("inserted " + flows.size() + " conntrack entries in " + ns + " but " + there
                    + " are there: " + out);
        }
    }

    /** Entries in the namespace's table. */
    private static int count(String ns) throws Exception {
        return Integer.parseInt(BED.stdout(ns, "conntrack", "-C").strip());
    }

    /** Counts the processes a hook spawns (every tool call is one). */
    private static final class Counting implements ToolRunner {

        private final ToolRunner delegate;
        final AtomicInteger spawned = new AtomicInteger();

        Counting(ToolRunner delegate) {
            this.delegate = delegate;
        }

        @Override
        public ToolResult run(ToolCommand command) throws ToolException {
            spawned.incrementAndGet();
            return delegate.run(command);
        }

        @Override
        public ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
            spawned.incrementAndGet();
            return delegate.runAllowingFailure(command);
        }
    }

    /** One measured call: wall time, processes spawned, entries deleted or counted. */
    record Run(long nanos, int spawned, long entries) {
    }

    /** The printed table: one row per hook and size. */
    static final class Table {

        private final StringBuilder text = new StringBuilder(String.format("%n%-48s %7s %10s %10s %9s %9s   [%s sizes, %d runs]%n",
                "conntrack hooks, real kernel (netns)", "N", "median ms", "max ms", "processes", "entries",
                BenchmarkScale.name(), RUNS));

        void row(String hook, int n, List<Run> runs) {
            List<Long> nanos = runs.stream().map(Run::nanos).sorted().toList();
            Run last = runs.get(runs.size() - 1);
            text.append(String.format("%-48s %7d %10.2f %10.2f %9d %9d%n", hook, n, nanos.get(nanos.size() / 2) / 1e6,
                    nanos.get(nanos.size() - 1) / 1e6, last.spawned(), last.entries()));
        }

        String render() {
            return text.toString();
        }
    }
}
