package io.kubeferry.iptables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.testing.Cli;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What iptables mode reports as each Service port's algorithm, and why, for /debug/state and render. */
class SchedulersInForceTest {

    private static final Endpoint[] EPS = {endpoint("198.18.0.11", 8080), endpoint("198.18.0.12", 8080)};

    @Test
    void aSyncReportsEveryPortsAlgorithmAndWhyAPartialSyncKeepsTheUnchanged() throws Exception {
        FakeNetfilter kernel = new FakeNetfilter();
        kernel.setAddresses(List.of("127.0.0.1/8", "198.18.1.1/24"));
        IptablesDataplane dp = new IptablesDataplane(new DataplaneContext(
                ProxyConfig.defaults().withClusterCIDRs(List.of("198.18.0.0/24")).withScheduling("rr", 251), kernel,
                new SimpleMeterRegistry()));
        assertEquals(Map.of(), dp.schedulers(), "nothing before the first sync");
        ResolvedService asked = port("ns", "maglev", "", Protocol.TCP, "198.19.0.1", 80).option(SchedulerCatalog.SCHEDULER_KEY, "maglev")
                .resolve(EPS);
        ResolvedService plain = port("ns", "plain", "", Protocol.TCP, "198.19.0.2", 80).resolve(EPS);
        ResolvedService unknown = port("ns", "unknown", "", Protocol.TCP, "198.19.0.3", 80).option(SchedulerCatalog.SCHEDULER_KEY, "wlc")
                .resolve(EPS);
        dp.sync(new SyncRequest(state(asked, plain, unknown), Set.of(), true));

        Map<ServicePortName, SchedulerInForce> inForce = dp.schedulers();
        assertEquals(new SchedulerInForce("maglev", Set.of(), SchedulerInForce.Why.ANNOTATION, ""), inForce.get(asked.name()));
        assertEquals(new SchedulerInForce("rr", Set.of(), SchedulerInForce.Why.NODE_DEFAULT, ""), inForce.get(plain.name()));
        SchedulerInForce fell = inForce.get(unknown.name());
        assertEquals("rr", fell.algorithm(), "the node default stands in");
        assertEquals(SchedulerInForce.Why.FALLBACK, fell.why());
        assertTrue(fell.reason().contains("\"wlc\" is not available"), fell.reason());

        // The partial sync rewrites only "plain"; the program still holds the others' choices.
        ResolvedService plainNowMaglev = port("ns", "plain", "", Protocol.TCP, "198.19.0.2", 80)
                .option(SchedulerCatalog.SCHEDULER_KEY, "source-hash").resolve(EPS);
        dp.sync(new SyncRequest(state(asked, plainNowMaglev, unknown), Set.of(plain.name()), false));
        assertEquals("source-hash (annotation)", dp.schedulers().get(plain.name()).describe());
        assertEquals(3, dp.schedulers().size());
    }

    @Test
    void renderListsThemInItsHeader(@TempDir Path tmp) throws Exception {
        Path objects = Files.writeString(tmp.resolve("objects.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: shop, annotations: {kube-ferry.io/scheduler: maglev}}
                spec: {clusterIP: 198.19.0.10, ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: db, namespace: shop, annotations: {kube-ferry.io/scheduler: nope}}
                spec: {clusterIP: 198.19.0.11, ports: [{port: 5432, protocol: TCP}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: dns, namespace: kube-system}
                spec: {clusterIP: 198.19.0.12, ports: [{name: dns, port: 53, protocol: UDP}]}
                """);
        Cli.Run run = Cli.run("render", "--mode", "iptables", "--hostname-override", "node-a", "-f", objects.toString());
        assertEquals(0, run.code(), run.err());
        List<String> lines = run.out().lines().filter(l -> l.startsWith("#   ")).toList();
        assertEquals(List.of("#   kube-system/dns:dns udp: random (mode-default)",
                "#   shop/db tcp: random (fallback: scheduler \"nope\" is not "
                        + "available on this node; using \"random\")",
                "#   shop/web:http tcp: maglev (annotation)"), lines);
        Cli.Run nodeDefault = Cli.run("render", "--mode", "iptables", "--scheduler", "rr", "--hostname-override", "node-a", "-f",
                objects.toString());
        assertTrue(nodeDefault.out().contains("#   kube-system/dns:dns udp: rr (node-default)\n"), nodeDefault.out());
    }
}
