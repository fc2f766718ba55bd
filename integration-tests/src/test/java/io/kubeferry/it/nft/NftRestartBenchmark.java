package io.kubeferry.it.nft;

import io.kubeferry.it.BenchmarkScale;
import io.kubeferry.it.NetnsTestBed;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.Fixtures;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Benchmark for the nftables mode's restart (issue 12 item 3): the first sync of a new dataplane over the table an
 * earlier one left in a real kernel (a fresh namespace per size), with the same objects, with one Service changed,
 * and over a table it will not take over (an object kube-ferry never writes makes it refill whole, as the code
 * before the read-back did for every restart); {@code nft -j list table} alone for scale. Prints a table; asserts
 * only correctness (each sync leaves the rule count of the objects, and which way it went), never time.
 * Full sizes: {@code -Dkube-ferry.benchmark=full} (1,000 and 10,000 Services x 5 endpoints); the test run uses 100.
 */
class NftRestartBenchmark {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    static final List<Integer> SIZES = BenchmarkScale.pick(List.of(100), List.of(1_000, 10_000));

    @BeforeAll
    static void needNft() throws Exception {
        boolean nft;
        try {
            Process p = new ProcessBuilder("nft", "--version").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            nft = p.waitFor() == 0;
        } catch (java.io.IOException e) {
            nft = false;
        }
        assumeTrue(nft, "the nftables benchmark needs the nft command (nftables package)");
    }

    /** One sync of a new dataplane (a started agent) and how its first sync went. */
    record Run(SyncResult result, long wallMillis, String outcome) {
    }

    @Test
    void firstSyncAfterRestart() throws Exception {
        StringBuilder table = new StringBuilder(String.format(
                "%nnftables mode, first sync of a new dataplane, real kernel (netns), 5 endpoints per Service   [%s sizes]%n%-46s %8s %9s %9s %9s %12s  %s%n",
                BenchmarkScale.name(), "first sync", "services", "wall ms", "render ms", "apply ms", "bytes written", "how"));
        for (int size : SIZES) {
            String ns = BED.bareNamespace("r" + size);
            List<BenchService> fleet = BenchService.fleet(size, BenchService.Mix.FIVE);
            ProxyState objects = state(fleet);
            List<BenchService> changedFleet = new ArrayList<>(fleet);
            changedFleet.set(0, fleet.get(0).movedTo(1));
            ProxyState changed = state(changedFleet);

            Run empty = sync(ns, objects);
            row(table, "start on an empty node", size, empty);
            int rules = empty.result().ruleCounts().get("kube-proxy");
            Run same = sync(ns, objects);
            row(table, "restart, same objects", size, same);
            Run one = sync(ns, changed);
            row(table, "restart, one Service's endpoints moved", size, one);
            BED.exec(ns, "nft", "add", "counter", "ip", "kube-proxy", "not-kube-ferrys");
            Run foreign = sync(ns, objects);
            row(table, "restart over a table not taken over", size, foreign);
            long start = System.nanoTime();
            String json = BED.stdout(ns, "nft", "-j", "list", "table", "ip", "kube-proxy");
            table.append(String.format("%-46s %8d %9d %42s%n", "  (nft -j list table alone: " + json.length() / 1_048_576 + " MiB)", size,
                    (System.nanoTime() - start) / 1_000_000, ""));
            for (Run r : List.of(same, one, foreign)) {
                assertEquals(rules, r.result().ruleCounts().get("kube-proxy"), "every sync leaves the objects' rules: " + r);
            }
            BED.exec(ns, "nft", "delete", "table", "ip", "kube-proxy");
        }
        System.out.println(table);
    }

    private static Run sync(String ns, ProxyState state) throws Exception {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        ProxyConfig config = ProxyConfig.defaults().withMode("nftables").withHostnameOverride(Fixtures.NODE).withNetns(ns)
                .withClusterCIDRs(List.of("198.18.0.0/16"));
        Dataplane dataplane = DataplaneProvider.forMode("nftables")
                .create(new DataplaneContext(config, new ProcessToolRunner(ns), metrics));
        long start = System.nanoTime();
        SyncResult result = dataplane.sync(SyncRequest.full(state));
        long wall = (System.nanoTime() - start) / 1_000_000;
        String outcome = "full (no read-back in this build)";
        for (String o : List.of("taken-over", "full-refill", "no-table")) {
            Counter c = metrics.find("kubeferry.nftables.start.readback").tag("outcome", o).counter();
            if (c != null && c.count() > 0) {
                outcome = o;
            }
        }
        return new Run(result, wall, outcome);
    }

    private static void row(StringBuilder table, String what, int size, Run r) {
        table.append(String.format("%-46s %8d %9d %9d %9d %12d  %s%n", what, size, r.wallMillis(), r.result().renderTime().toMillis(),
                r.result().applyTime().toMillis(), r.result().bytesWritten(), r.outcome()));
    }

    static ProxyState state(List<BenchService> fleet) {
        List<ResolvedService> services = new ArrayList<>(fleet.size());
        for (BenchService s : fleet) {
            Endpoint[] eps = s.endpoints().stream().map(ip -> Fixtures.endpoint(ip, BenchService.TARGET_PORT)).toArray(Endpoint[]::new);
            services.add(Fixtures.port("bench", "svc-" + s.id(), "http", Protocol.TCP, s.vip(), BenchService.PORT).resolve(eps));
        }
        return Fixtures.state(services.toArray(ResolvedService[]::new));
    }
}
