package io.kubeferry.it;

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
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Benchmark: iptables-mode syncs into a real kernel (a fresh node namespace). Prints a table; the only
 * assertions are about correctness (the kernel holds what was rendered), never about time.
 */
class IptablesSyncBenchmark {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    private static final int ENDPOINTS = 5;

    /**
     * The test run (CI) uses 100 and 1,000 Services: every code path, seconds each. The full sizes (1,000 and
     * 10,000, the README's table) take about 20 minutes on 2 cores, most of it in iptables-nft-restore of
     * 170,000 rules: dev/bench.sh.
     */
    static final List<Integer> SIZES = BenchmarkScale.pick(List.of(100, 1_000), List.of(1_000, 10_000));

    @Test
    void fullAndPartialSyncs() throws Exception {
        StringBuilder table = new StringBuilder();
        table.append(String.format("%n%-40s %9s %10s %10s %10s %12s %9s   [%s sizes]%n", "iptables mode, real kernel (netns)",
                "services", "render ms", "apply ms", "nat rules", "bytes", "heap MiB", BenchmarkScale.name()));
        for (String flavour : List.of("legacy", "nft")) {
            for (int services : SIZES) {
                // A fresh namespace each time: removing 170,000 rules costs as much as loading them.
                String ns = BED.bareNamespace(flavour + services);
                if (flavour.equals("legacy")) {
                    // kubelet's hint chain makes kube-ferry pick iptables-legacy, as on a legacy node.
                    BED.exec(ns, "iptables-legacy", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT");
                }
                measure(table, flavour, ns, services);
            }
        }
        System.out.println(table);
    }

    private void measure(StringBuilder table, String flavour, String ns, int services) throws Exception {
        ProxyConfig config = ProxyConfig.defaults().withHostnameOverride(Fixtures.NODE).withNetns(ns)
                .withClusterCIDRs(List.of("198.18.0.0/16"));
        Dataplane dataplane = DataplaneProvider.forMode("iptables")
                .create(new DataplaneContext(config, new ProcessToolRunner(ns), new SimpleMeterRegistry()));
        ProxyState state = state(services, 0);
        Runtime rt = Runtime.getRuntime();
        long pureRender = time(() -> dataplane.render(SyncRequest.full(state)));
        SyncResult full = dataplane.sync(SyncRequest.full(state));
        System.gc();
        row(table, flavour + ": full sync", services, full, (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024));
        table.append(String.format("%-40s %9d %10d%n", flavour + ": full render only (warm)", services, pureRender));

        ProxyState changed = state(services, 1);
        ResolvedService moved = changed.services().values().iterator().next();
        SyncResult partial = dataplane.sync(new SyncRequest(changed, Set.of(moved.name()), false));
        System.gc();
        row(table, flavour + ": partial sync (1 Service changed)", services, partial, (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024));

        assertFalse(partial.full(), "a one-Service change goes partial");
        assertEquals(full.ruleCounts().get("nat"), partial.ruleCounts().get("nat"), "same rule count after moving endpoints");
        String nat = BED.exec(ns, "iptables-" + flavour + "-save", "-t", "nat");
        assertTrue(nat.contains("--to-destination " + moved.clusterEndpoints().get(0).hostPort()), "the change is in the kernel");
        assertEquals((long) partial.ruleCounts().get("nat"),
                nat.lines().filter(l -> l.startsWith("-A KUBE-")).count(), "the kernel holds exactly the rendered nat rules");
    }

    private static void row(StringBuilder table, String what, int services, SyncResult r, long heapMiB) {
        table.append(String.format("%-40s %9d %10d %10d %10d %12d %9d%n", what, services, r.renderTime().toMillis(),
                r.applyTime().toMillis(), r.ruleCounts().get("nat"), r.bytesWritten(), heapMiB));
    }

    private static long time(Runnable work) {
        work.run(); // warm-up
        long start = System.nanoTime();
        work.run();
        return (System.nanoTime() - start) / 1_000_000;
    }

    /** {@code count} Services with 5 endpoints each; {@code generation} shifts the first Service's endpoints. */
    static ProxyState state(int count, int generation) {
        List<ResolvedService> services = new ArrayList<>(count);
        for (int s = 0; s < count; s++) {
            Endpoint[] eps = new Endpoint[ENDPOINTS];
            for (int e = 0; e < ENDPOINTS; e++) {
                int host = s * ENDPOINTS + e + (s == 0 ? generation * 100 : 0);
                eps[e] = Fixtures.endpoint("198.18." + (host / 250 % 256) + "." + (host % 250 + 1), 8080);
            }
            String vip = "198.19." + (s / 250) + "." + (s % 250 + 1);
            services.add(Fixtures.port("bench", "svc-" + s, "http", Protocol.TCP, vip, 80).resolve(eps));
        }
        return Fixtures.state(services.toArray(ResolvedService[]::new));
    }
}
