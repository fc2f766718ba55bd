package io.kubeferry.it.guest;

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
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.Fixtures;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Runs inside the IPVS guest (started by {@link IpvsReconcileBenchmark}): IPVS-mode syncs of N virtual
 * services into the namespace given, timed. Prints one line per measurement:
 * {@code RESULT <services> <case> <render ms> <apply ms> <bytes>}.
 */
public final class GuestReconcile {

    private GuestReconcile() {
    }

    public static void main(String[] args) throws Exception {
        String netns = args[0];
        int services = Integer.parseInt(args[1]);
        ProxyConfig config = ProxyConfig.defaults().withHostnameOverride(Fixtures.NODE).withMode("ipvs")
                .withClusterCIDRs(List.of("198.18.0.0/24"));
        Dataplane dataplane = DataplaneProvider.forMode("ipvs")
                .create(new DataplaneContext(config, new ProcessToolRunner(netns), new SimpleMeterRegistry()));
        ProxyState state = state(services, -1);
        report(services, "full (empty node)", dataplane.sync(SyncRequest.full(state)));
        report(services, "full resync, nothing changed", dataplane.sync(SyncRequest.full(state)));
        ProxyState changed = state(services, services / 2);
        ServicePortName one = changed.services().keySet().stream().skip(services / 2).findFirst().orElseThrow();
        report(services, "one Service's endpoints changed", dataplane.sync(new SyncRequest(changed, Set.of(one), false)));
        ProxyState back = state(services, -1);
        report(services, "full resync after the change", dataplane.sync(new SyncRequest(back, Set.of(one), true)));
    }

    /** N ClusterIP Services with two endpoints each; the one at {@code changedIndex} gets a third. */
    static ProxyState state(int n, int changedIndex) {
        List<ResolvedService> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String vip = "198.19." + (i / 250) + "." + (i % 250 + 1);
            List<Endpoint> eps = new ArrayList<>(List.of(Fixtures.endpoint("198.18.0.11", 8080 + i % 1000),
                    Fixtures.endpoint("198.18.0.12", 8080 + i % 1000)));
            if (i == changedIndex) {
                eps.add(Fixtures.endpoint("198.18.0.13", 8080 + i % 1000));
            }
            all.add(Fixtures.port("bench", String.format("svc-%05d", i), "http", Protocol.TCP, vip, 80)
                    .resolve(eps.toArray(Endpoint[]::new)));
        }
        return Fixtures.state(all.toArray(ResolvedService[]::new));
    }

    private static void report(int services, String what, SyncResult r) {
        System.out.printf("RESULT %d %s|%d|%d|%d%n", services, what, r.renderTime().toMillis(), r.applyTime().toMillis(), r.bytesWritten());
    }
}
