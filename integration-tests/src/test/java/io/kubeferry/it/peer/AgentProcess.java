package io.kubeferry.it.peer;

import io.kubeferry.it.NetnsForwarder;
import io.kubeferry.proxy.testing.UpstreamMetrics;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One agent (upstream kube-proxy or kube-ferry) running as its own process in a {@link PeerBed}'s node
 * namespace, with the bed's KubeProxyConfiguration file: what the differential test and the benchmarks
 * measure. Its metrics and healthz ports (on the node namespace's loopback) are reached through
 * {@link NetnsForwarder}s. The process is ours: stopped by its own handle (SIGTERM, then SIGKILL).
 * <p>
 * {@code ip netns exec} execs the agent, so {@link #pid()} is the agent's own PID and /proc/PID describes it.
 */
public final class AgentProcess implements AutoCloseable {

    /** Which agent. */
    public enum Kind {

        KUBE_PROXY("kube-proxy"), KUBE_FERRY("kube-ferry");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** Its name as printed in tables and logs. */
        public String label() {
            return label;
        }
    }

    /** The synced metric both agents export (upstream's name): 0 until the first sync with every informer synced. */
    public static final String LAST_SYNC = "kubeproxy_sync_proxy_rules_last_timestamp_seconds";

    /** When the last change was queued for a sync (upstream's name, both agents). */
    public static final String LAST_QUEUED = "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds";
    /** How long "nothing pending" must hold before a batch of changes counts as programmed. */
    private static final Duration QUIET = Duration.ofMillis(2500);

    private static final long CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux ABI this runs on
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1).build();

    private final Kind kind;
    private final Process process;
    private final Instant startedAt;
    private final long startedNanos;
    private final Path log;
    private final NetnsForwarder metrics;
    private final NetnsForwarder healthz;

    private AgentProcess(Kind kind, Process process, Instant startedAt, long startedNanos, Path log, NetnsForwarder metrics,
            NetnsForwarder healthz) {
        this.kind = kind;
        this.process = process;
        this.startedAt = startedAt;
        this.startedNanos = startedNanos;
        this.log = log;
        this.metrics = metrics;
        this.healthz = healthz;
    }

    /** Starts {@code kind} in the config's node namespace with the config's file; its output goes to {@code log}. */
    public static AgentProcess start(Kind kind, AgentConfig config, Path log) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", config.netns()));
        argv.addAll(config.command(kind, "--config", config.file().toString()));
        ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile());
        config.environment(kind).forEach(builder.environment()::put);
        NetnsForwarder metricsForwarder = NetnsForwarder.open(config.netns(), config.metricsPort());
        NetnsForwarder healthzForwarder = null;
        try {
            healthzForwarder = NetnsForwarder.open(config.netns(), config.healthzPort());
            long nanos = System.nanoTime();
            Instant at = Instant.now();
            return new AgentProcess(kind, builder.start(), at, nanos, log, metricsForwarder, healthzForwarder);
        } catch (IOException | RuntimeException e) {
            metricsForwarder.close();
            if (healthzForwarder != null) {
                healthzForwarder.close();
            }
            throw e;
        }
    }

    public Kind kind() {
        return kind;
    }

    public long pid() {
        return process.pid();
    }

    public Instant startedAt() {
        return startedAt;
    }

    public Path log() {
        return log;
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Resident set size now (VmRSS of /proc/PID/status), in KiB. */
    public long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IOException("no VmRSS in /proc/" + pid() + "/status");
    }

    /** CPU seconds used so far, user plus system (utime + stime of /proc/PID/stat). */
    public double cpuSeconds() throws IOException {
        String[] f = stat();
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) CLOCK_TICKS_PER_SECOND;
    }

    /**
     * {@link #cpuSeconds()} plus that of the children it has waited for (cutime + cstime): the netfilter tools
     * (iptables-restore, ...) each agent runs for its syncs, whose work is part of the agent's cost.
     */
    public double cpuSecondsWithTools() throws IOException {
        String[] f = stat();
        return (Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]))
                / (double) CLOCK_TICKS_PER_SECOND;
    }

    /** The fields of /proc/PID/stat after the command name (which is in parentheses and may hold spaces): [0] is field 3. */
    private String[] stat() throws IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid()), "stat"));
        // utime is field 14, stime 15, cutime 16, cstime 17.
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    /** The metrics exposition (GET /metrics on the metrics port). */
    public String metrics() throws IOException, InterruptedException {
        HttpResponse<String> response = get(metrics, "/metrics");
        if (response.statusCode() != 200) {
            throw new IOException(kind.label() + " /metrics answered " + response.statusCode());
        }
        return response.body();
    }

    /** One sample of {@link #metrics()}, NaN if absent (label pairs as in UpstreamMetrics.value). */
    public double metric(String name, String... labelPairs) throws IOException, InterruptedException {
        return UpstreamMetrics.value(metrics(), name, labelPairs);
    }

    /** The status code of GET /healthz on the healthz port. */
    public int healthz() throws IOException, InterruptedException {
        return get(healthz, "/healthz").statusCode();
    }

    /**
     * Waits until the agent has programmed its first complete ruleset ({@link #LAST_SYNC} &gt; 0: both agents
     * sync first only once Services, EndpointSlices and the Node are listed) and returns the time since start.
     * Fails, with the log's tail, if the agent exits or {@code limit} passes.
     */
    public Duration awaitSynced(Duration limit) throws IOException, InterruptedException {
        long deadline = startedNanos + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        kind.label() + " exited " + process.exitValue() + " before its first sync; log:\n" + tail());
            }
            try {
                double last = metric(LAST_SYNC);
                if (last > 0) {
                    return Duration.ofNanos(System.nanoTime() - startedNanos);
                }
            } catch (IOException e) {
                // metrics port not up yet
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException(kind.label() + " did not sync within " + limit + "; log:\n" + tail());
    }

    /**
     * Waits until every change queued so far is programmed, by a sync that ended at or after {@code since}: both
     * agents set {@link #LAST_QUEUED} when a change arrives and {@link #LAST_SYNC} when a sync ends, so
     * {@code last >= queued} means nothing is pending. A batch of writes reaches the agent over several watch
     * events, and the first can be synced before the last has arrived, so the state must also hold for
     * {@link #QUIET} with no new change queued (longer than minSyncPeriod and the watches' delivery). Call it with a
     * time taken before the API writes whose effect is awaited. Fails, with the log's tail, if the agent exits or
     * {@code limit} passes.
     */
    public void awaitSyncedSince(Instant since, Duration limit) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        double sinceSeconds = since.toEpochMilli() / 1000.0;
        double settledQueued = Double.NaN;
        long settledAt = 0;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(kind.label() + " exited " + process.exitValue() + "; log:\n" + tail());
            }
            String exposition = metrics();
            double last = UpstreamMetrics.value(exposition, LAST_SYNC);
            double queued = UpstreamMetrics.value(exposition, LAST_QUEUED);
            if (last >= sinceSeconds && queued >= sinceSeconds && last >= queued) {
                if (queued != settledQueued) {
                    settledQueued = queued;
                    settledAt = System.nanoTime();
                } else if (System.nanoTime() - settledAt >= QUIET.toNanos()) {
                    return;
                }
            } else {
                settledQueued = Double.NaN;
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException(
                kind.label() + " did not program the changes since " + since + " within " + limit + "; log:\n" + tail());
    }

    /** The same as {@link #awaitSynced}: the first complete ruleset is in the kernel. */
    public Duration awaitRulesComplete(Duration limit) throws IOException, InterruptedException {
        return awaitSynced(limit);
    }

    /** The last 40 lines of the agent's log. */
    public String tail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** SIGTERM, then SIGKILL after 10 s; closes the forwarders. Idempotent. Returns the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        metrics.close();
        healthz.close();
        return process.isAlive() ? -1 : process.exitValue();
    }

    @Override
    public void close() {
        // Not InterruptedException (AutoCloseable's close should not throw it): an interrupt is kept for the caller.
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static HttpResponse<String> get(NetnsForwarder port, String path) throws IOException, InterruptedException {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.port() + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
