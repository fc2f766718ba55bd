package io.kubeferry.it.nft;

import io.kubeferry.it.BenchmarkScale;
import io.kubeferry.it.NetnsTestBed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Benchmark for the nftables mode's design (issue 12, parts 4 and 5): which per-Service dispatch shape, and
 * what the {@code nft -f -} process boundary costs, decided in a real kernel. Each program is
 * {@link DispatchProgram}'s {@code nft -f} text, loaded into a fresh namespace this class creates. Prints
 * tables (docs/benchmarks/nftables-dispatch.md holds the full-size ones); asserts only correctness: every
 * program loads with the chains it should, a one-Service change lands, traffic reaches every endpoint, every
 * batch of the process-boundary run applies.
 * Full sizes: {@code -Dkube-ferry.benchmark=full} (1,000 and 10,000 Services, 3 runs, 200 batches); the test run
 * uses 100 Services, 1 run, 20 batches.
 */
class NftDispatchBenchmark {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    static final List<Integer> SIZES = BenchmarkScale.pick(List.of(100), List.of(1_000, 10_000));
    static final int RUNS = BenchmarkScale.full() ? 3 : 1;
    static final int BATCHES = BenchmarkScale.full() ? 200 : 20;
    /** Bounds each kind of the process-boundary run, whatever BATCHES says. */
    static final int BATCH_SECONDS = BenchmarkScale.full() ? 300 : 60;
    static final int CONNECTIONS = 50;
    static final Path JAVA_25 = Path.of(System.getProperty("kube-ferry.jdk25", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java");

    private static Path work;

    @BeforeAll
    static void needNft() throws IOException {
        assumeTrue(runs("nft", "--version"), "the nftables benchmark needs the nft command (nftables package)");
        work = Files.createTempDirectory("kube-ferry-nft-dispatch-");
    }

    @AfterAll
    static void removeWork() throws IOException {
        if (work != null) {
            try (Stream<Path> files = Files.list(work)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(work);
        }
    }

    /** Part 4: full load, one-Service change, listing and deletion of each shape's program. */
    @Test
    void dispatchShapes() throws Exception {
        StringBuilder table = new StringBuilder();
        double exec = median(times(5, () -> run(BED.nodeNs(), null, List.of("true"), 30)));
        table.append(
                String.format("%nnftables dispatch shapes, real kernel (fresh netns per run), %d run(s), median (min-max) ms   [%s sizes]%n"
                        + "every time includes `ip netns exec` (%.1f ms for `true`)%n", RUNS, BenchmarkScale.name(), exec / 1000));
        table.append(String.format("%-12s %8s %-44s %6s %8s %22s %22s %22s %22s%n", "endpoints", "services", "shape",
                "maps", "MiB", "full load", "one-Service change", "list table", "delete table"));
        for (BenchService.Mix mix : BenchService.Mix.values()) {
            for (int size : SIZES) {
                List<BenchService> fleet = BenchService.fleet(size, mix);
                for (DispatchShape shape : DispatchShape.values()) {
                    measureShape(table, mix, fleet, shape);
                }
            }
        }
        System.out.println(table);
    }

    private void measureShape(StringBuilder table, BenchService.Mix mix, List<BenchService> fleet, DispatchShape shape) throws Exception {
        DispatchProgram program = new DispatchProgram(shape);
        String text = program.full(fleet);
        Path full = write(shape.name() + "-" + fleet.size() + ".nft", text);
        BenchService before = fleet.get(0);
        BenchService after = before.movedTo(1);
        Path change = write(shape.name() + "-" + fleet.size() + "-change.nft", program.change(before, after));
        Path listing = work.resolve("listing.txt");
        List<Long> load = new ArrayList<>();
        List<Long> changed = new ArrayList<>();
        List<Long> list = new ArrayList<>();
        List<Long> delete = new ArrayList<>();
        for (int run = 0; run < RUNS; run++) {
            String ns = BED.bareNamespace("d" + mix.ordinal() + shape.ordinal() + "-" + fleet.size() + "-" + run);
            load.add(micros(ns, null, "-f", full.toString()));
            list.add(micros(ns, listing, "list", "table", DispatchProgram.TABLE));
            if (run == 0) {
                long chains = Files.readAllLines(listing).stream().filter(l -> l.startsWith("\tchain ")).count();
                assertEquals(program.chainCount(fleet), chains, shape + ": the kernel holds every chain of the program");
            }
            changed.add(micros(ns, null, "-f", change.toString()));
            if (run == 0) {
                String newChain = DispatchProgram.endpointChain(after, after.endpoints().get(0));
                String rules = BED.stdout(ns, "nft", "list", "chain", DispatchProgram.TABLE, newChain);
                assertTrue(rules.contains("dnat to " + after.endpoints().get(0)), shape + ": the new endpoint is in: " + rules);
                String oldChain = DispatchProgram.endpointChain(before, before.endpoints().get(0));
                assertFalse(runs("ip", "netns", "exec", ns, "nft", "list", "chain", DispatchProgram.TABLE, oldChain),
                        shape + ": the old endpoint chain is gone");
            }
            delete.add(micros(ns, null, "delete", "table", DispatchProgram.TABLE));
        }
        table.append(String.format("%-12s %8d %-44s %6d %8.1f %22s %22s %22s %22s%n", mix.title, fleet.size(), shape.label(),
                maps(shape, fleet), text.length() / 1048576.0, spread(load), spread(changed), spread(list), spread(delete)));
    }

    /** Verdict maps in the table: service-ips, plus one anonymous map per multi-endpoint Service (upstream) or the shared one. */
    private static int maps(DispatchShape shape, List<BenchService> fleet) {
        return 1 + switch (shape) {
            case UPSTREAM_VMAP -> fleet.size();
            case UPSTREAM_SINGLE_GOTO -> (int) fleet.stream().filter(s -> s.endpoints().size() > 1).count();
            case CASCADE -> 0;
            case SHARED_MAP, SHARED_MAP_MARK -> 1;
        };
    }

    /**
     * Every shape really balances: a ClusterIP with 5, one with 2 and one with 1 endpoint, each endpoint a pod
     * answering with its name, inside a fleet of the smallest size; {@value #CONNECTIONS} connections from the
     * client namespace to each must reach every endpoint and no other.
     */
    @Test
    void trafficReachesEveryEndpoint() throws Exception {
        List<NetnsTestBed.Pod> pods = new ArrayList<>();
        for (int p = 0; p < 5; p++) {
            pods.add(BED.addPod("ep" + p, 10 + p));
        }
        List<BenchService> fleet = new ArrayList<>(BenchService.fleet(SIZES.get(0), BenchService.Mix.MIXED));
        int[] endpointCounts = {5, 2, 1};
        for (int s = 0; s < endpointCounts.length; s++) {
            fleet.set(s, fleet.get(s).withEndpoints(pods.subList(0, endpointCounts[s]).stream().map(NetnsTestBed.Pod::ip).toList()));
        }
        StringBuilder table = new StringBuilder(
                String.format("%nnftables dispatch shapes: %d TCP connections per ClusterIP from the client namespace, "
                        + "%d Services in the table%n", CONNECTIONS, fleet.size()));
        for (DispatchShape shape : DispatchShape.values()) {
            Path program = write(shape.name() + "-traffic.nft", new DispatchProgram(shape).full(fleet));
            micros(BED.nodeNs(), null, "-f", program.toString());
            try {
                for (int s = 0; s < endpointCounts.length; s++) {
                    Map<String, Integer> answers = new TreeMap<>();
                    for (int c = 0; c < CONNECTIONS; c++) {
                        answers.merge(BED.client().tcp(fleet.get(s).vip(), BenchService.PORT), 1, Integer::sum);
                    }
                    table.append(
                            String.format("%-44s %-15s %d endpoints: %s%n", shape.label(), fleet.get(s).vip(), endpointCounts[s], answers));
                    List<String> expected = pods.subList(0, endpointCounts[s]).stream().map(NetnsTestBed.Pod::name).sorted().toList();
                    assertEquals(expected, List.copyOf(answers.keySet()),
                            shape + " via " + fleet.get(s).vip() + ": every endpoint and only those answer");
                }
            } finally {
                micros(BED.nodeNs(), null, "delete", "table", DispatchProgram.TABLE);
            }
        }
        System.out.println(table);
    }

    /**
     * Part 5: what a sync's {@code nft -f -} process costs against the same batch through libnftables inside one
     * process, in a namespace holding the cascade program: a one-element change (a service-ips element added,
     * then deleted) and a one-Service change (all endpoints replaced, then back). Run by the Java 25 program
     * NftBoundary inside the namespace, so both ways start from the same place; also the bare cost of starting
     * {@code nft --version}.
     */
    @Test
    void processBoundary() throws Exception {
        assumeTrue(Files.isExecutable(JAVA_25), "the process-boundary benchmark runs libnftables through the FFM API on JDK 25: no "
                + JAVA_25 + " (set -Dkube-ferry.jdk25=JDK_HOME)");
        Path source = work.resolve("NftBoundary.java");
        try (InputStream in = NftDispatchBenchmark.class.getResourceAsStream("NftBoundary.java")) {
            Files.copy(in, source);
        }
        StringBuilder table = new StringBuilder(String.format("%nnftables process boundary: per-batch wall time in the node namespace, "
                + "table of the cascade shape, 5 endpoints per Service   [%s sizes]%n", BenchmarkScale.name()));
        table.append(
                String.format("%8s %-22s %-24s %7s %10s %10s %10s%n", "services", "batch", "how", "batches", "p50 ms", "p90 ms", "max ms"));
        for (int size : SIZES) {
            List<BenchService> fleet = BenchService.fleet(size, BenchService.Mix.FIVE);
            DispatchProgram program = new DispatchProgram(DispatchShape.CASCADE);
            String ns = BED.bareNamespace("b" + size);
            micros(ns, null, "-f", write("boundary-" + size + ".nft", program.full(fleet)).toString());
            BenchService first = fleet.get(0);
            BenchService moved = first.movedTo(1);
            String extra = "198.19.250.1 . tcp . " + BenchService.PORT;
            Map<String, Path[]> kinds = new LinkedHashMap<>();
            kinds.put("one element", new Path[] {
                    write("element-add.nft", "add element " + DispatchProgram.TABLE + " service-ips { " + extra + " : goto "
                            + DispatchProgram.serviceChain(first) + " }\n"),
                    write("element-delete.nft", "delete element " + DispatchProgram.TABLE + " service-ips { " + extra + " }\n")});
            kinds.put("one-Service change", new Path[] {
                    write("service-move.nft", program.change(first, moved)),
                    write("service-back.nft", program.change(moved, first))});
            List<String> command = new ArrayList<>(List.of(JAVA_25.toString(), "--enable-native-access=ALL-UNNAMED",
                    source.toString(), Integer.toString(BATCHES), Integer.toString(BATCH_SECONDS)));
            kinds.forEach((kind, files) -> command.addAll(List.of(kind.replace(' ', '_'), files[0].toString(), files[1].toString())));
            Path output = work.resolve("boundary-" + size + ".txt");
            run(ns, output, command, BATCH_SECONDS * (kinds.size() + 1) + 120);
            String out = Files.readString(output);
            List<String> rows = out.lines().filter(l -> l.startsWith("row\t")).toList();
            assertEquals(2 * kinds.size() + 1, rows.size(), "one row per kind and method, and nft --version: " + out);
            for (String row : rows) {
                String[] f = row.split("\t");
                assertTrue(Integer.parseInt(f[3]) > 0, "batches ran: " + row);
                table.append(String.format("%8d %-22s %-24s %7s %10.2f %10.2f %10.2f%n", size, f[1].replace('_', ' '), f[2], f[3],
                        Long.parseLong(f[4]) / 1000.0, Long.parseLong(f[5]) / 1000.0, Long.parseLong(f[6]) / 1000.0));
            }
            micros(ns, null, "delete", "table", DispatchProgram.TABLE);
        }
        System.out.println(table);
    }

    /** Runs {@code nft ARGS} in {@code ns}; stdout to {@code stdout} or discarded. Micros, start to exit. */
    private static long micros(String ns, Path stdout, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("nft"));
        command.addAll(List.of(args));
        // A full load of upstream's shape at 10,000 Services takes tens of seconds on a loaded machine: a generous bound.
        return run(ns, stdout, command, 600);
    }

    /** Runs {@code command} in {@code ns}, failing with its stderr on a non-zero exit; micros from start to exit. */
    private static long run(String ns, Path stdout, List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(command);
        Path err = work.resolve("stderr.txt");
        ProcessBuilder pb = new ProcessBuilder(argv).redirectError(err.toFile())
                .redirectOutput(stdout == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(stdout.toFile()));
        long start = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", argv) + " timed out after " + timeoutSeconds + " s");
        }
        long micros = (System.nanoTime() - start) / 1000;
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", argv) + " exited " + p.exitValue() + ": " + Files.readString(err));
        }
        return micros;
    }

    private interface Timed {

        long micros() throws Exception;
    }

    private static List<Long> times(int count, Timed timed) throws Exception {
        List<Long> samples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            samples.add(timed.micros());
        }
        return samples;
    }

    private static double median(List<Long> micros) {
        List<Long> sorted = micros.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    /** "median (min-max)" in ms, or the one value. */
    private static String spread(List<Long> micros) {
        String median = millis(median(micros));
        if (micros.size() == 1) {
            return median;
        }
        return median + " (" + millis(micros.stream().min(Comparator.naturalOrder()).orElseThrow()) + "-"
                + millis(micros.stream().max(Comparator.naturalOrder()).orElseThrow()) + ")";
    }

    private static String millis(double micros) {
        return micros >= 100_000 ? String.format("%.0f", micros / 1000) : String.format("%.1f", micros / 1000);
    }

    private static Path write(String name, String text) throws IOException {
        return Files.writeString(work.resolve(name), text, StandardCharsets.UTF_8);
    }

    private static boolean runs(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
