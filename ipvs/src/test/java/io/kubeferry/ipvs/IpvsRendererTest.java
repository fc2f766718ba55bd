package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.ServiceEvents;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.scheduler.Scheduler;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.testing.Fixtures;
import io.kubeferry.proxy.testing.GoldenFiles;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden files for IPVS mode: each is what {@code kube-ferry render --mode ipvs} prints for one feature (the ipset,
 * kube-ipvs0 address, ipvsadm and iptables inputs of a first sync), reviewed against upstream's IPVS proxier; and
 * the tool inputs of one partial sync with the table it leaves. Run with -Dkubeferry.updateGolden=true to rewrite
 * them, then review the diff.
 */
class IpvsRendererTest {

    private static final GoldenFiles GOLDEN = GoldenFiles.standard();
    /** The node's addresses, where NodePort virtual servers go (render takes them from the Node object). */
    private static final List<String> NODE_IPS = List.of("198.18.1.1", "198.18.2.1");

    private static String render(ResolvedService... services) {
        ProxyConfig config = ProxyConfig.defaults().withHostnameOverride(Fixtures.NODE).withMode("ipvs")
                .withClusterCIDRs(List.of("198.18.0.0/16"));
        IpvsDataplane dataplane = new IpvsDataplane(new DataplaneContext(config, new FakeIpvsKernel(), new SimpleMeterRegistry(),
                ServiceEvents.LOG_ONLY));
        ProxyState state = Fixtures.state(services);
        ProxyState onNode = new ProxyState(NodeInfo.named(Fixtures.NODE).withAddresses(NODE_IPS), state.services(), state.generation());
        return dataplane.render(SyncRequest.full(onNode));
    }

    @Test
    void clusterIP() throws IOException {
        ResolvedService svc = port("ns1", "svc1", "p80", Protocol.TCP, "198.19.0.10", 80)
                .resolve(localEndpoint("198.18.0.2", 8080), endpoint("198.18.0.3", 8080));
        GOLDEN.check("ipvs-clusterip", render(svc));
    }

    @Test
    void nodePort() throws IOException {
        ResolvedService svc = port("ns1", "web", "", Protocol.TCP, "198.19.0.11", 80).nodePort(30080)
                .resolve(endpoint("198.18.0.2", 8080));
        GOLDEN.check("ipvs-nodeport", render(svc));
    }

    @Test
    void externalIP() throws IOException {
        ResolvedService svc = port("ns1", "ext", "http", Protocol.TCP, "198.19.0.12", 80).externalIP("198.19.100.1")
                .resolve(endpoint("198.18.0.2", 8080));
        GOLDEN.check("ipvs-externalip", render(svc));
    }

    @Test
    void loadBalancerWithSourceRanges() throws IOException {
        ResolvedService svc = port("ns1", "lb", "https", Protocol.TCP, "198.19.0.13", 443).nodePort(30443)
                .loadBalancerIP("198.19.200.1").sourceRange("198.18.0.0/24").sourceRange("203.0.113.0/25")
                .resolve(endpoint("198.18.0.2", 8443));
        // A range with the node's (primary) address in it lets the node in, through its own LBIP-as-source entry;
        // the first Service's ranges do not, so KUBE-IPVS-OUT-FILTER drops the node's packets to it (k/k#119656).
        ResolvedService fromNode = port("ns1", "lb-node", "", Protocol.UDP, "198.19.0.15", 53)
                .loadBalancerIP("198.19.200.4").sourceRange("198.18.1.0/24").resolve(endpoint("198.18.0.3", 5353));
        GOLDEN.check("ipvs-loadbalancer-sourceranges", render(svc, fromNode));
    }

    @Test
    void externalTrafficPolicyLocal() throws IOException {
        ResolvedService svc = port("ns1", "local", "", Protocol.TCP, "198.19.0.14", 80).nodePort(30081).externalLocal(31000)
                .externalIP("198.19.100.3").loadBalancerIP("198.19.200.3")
                .resolve(localEndpoint("198.18.0.2", 8080), endpoint("198.18.0.3", 8080));
        GOLDEN.check("ipvs-etp-local", render(svc));
    }

    @Test
    void clientIPAffinity() throws IOException {
        ResolvedService svc = port("ns1", "sticky", "", Protocol.TCP, "198.19.0.17", 80).sticky(10800)
                .resolve(endpoint("198.18.0.2", 8080), endpoint("198.18.0.3", 8080));
        GOLDEN.check("ipvs-affinity", render(svc));
    }

    @Test
    void noEndpoints() throws IOException {
        ResolvedService svc = port("ns1", "empty", "", Protocol.TCP, "198.19.0.18", 80).nodePort(30082)
                .externalIP("198.19.100.2").loadBalancerIP("198.19.200.2").resolve();
        GOLDEN.check("ipvs-no-endpoints", render(svc));
    }

    @Test
    void perServiceScheduler() throws IOException {
        ResolvedService sh = port("ns1", "sh", "", Protocol.TCP, "198.19.0.31", 80)
                .option(SchedulerCatalog.SCHEDULER_KEY, "sh").option(SchedulerCatalog.FLAGS_KEY, "sh-port")
                .resolve(endpoint("198.18.0.2", 8080));
        ResolvedService mh = port("ns1", "mh", "", Protocol.TCP, "198.19.0.32", 80).sticky(600)
                .option(SchedulerCatalog.SCHEDULER_KEY, "mh").resolve(endpoint("198.18.0.2", 8080));
        ResolvedService global = port("ns1", "global", "", Protocol.TCP, "198.19.0.33", 80).resolve(endpoint("198.18.0.2", 8080));
        GOLDEN.check("ipvs-scheduler", render(sh, mh, global));
    }

    @Test
    void udpAndSctpNodePorts() throws IOException {
        ResolvedService dns = port("kube-system", "dns", "dns", Protocol.UDP, "198.19.0.53", 53).nodePort(30053)
                .resolve(endpoint("198.18.0.5", 53));
        ResolvedService sctp = port("ns1", "sig", "", Protocol.SCTP, "198.19.0.20", 3868).nodePort(30868).externalLocal(31001)
                .resolve(localEndpoint("198.18.0.6", 3868));
        GOLDEN.check("ipvs-udp-sctp", render(dns, sctp));
    }

    /**
     * One partial sync after a first: a TCP endpoint replaced (the old one drains at weight 0), a UDP endpoint
     * removed (deleted at once), a Service removed (its virtual server, address and set members go), a scheduler
     * changed (edited in place), a Service added with a local endpoint (hairpin member). The file ends with the
     * table the kernel holds afterwards, which the next partial sync diffs against.
     */
    @Test
    void partialSync() throws IOException {
        IpvsSettings settings = new IpvsSettings("0x4000", false, "198.18.0.0/16", List.of("198.18.1.1"), "rr", List.of(), true,
                "198.18.1.1");
        SchedulerCatalog catalog = new SchedulerCatalog(new IpvsSchedulers(name -> true), new Scheduler("rr", Set.of()));
        ProxyState before = Fixtures.state(
                port("ns1", "web", "", Protocol.TCP, "198.19.0.1", 80).nodePort(30080)
                        .resolve(endpoint("198.18.0.11", 8080), endpoint("198.18.0.12", 8080)),
                port("kube-system", "dns", "dns", Protocol.UDP, "198.19.0.53", 53)
                        .resolve(endpoint("198.18.0.53", 53), endpoint("198.18.0.54", 53)),
                port("ns1", "gone", "", Protocol.TCP, "198.19.0.2", 80).externalIP("198.19.100.2").resolve(endpoint("198.18.0.21", 8080)),
                port("ns1", "resched", "", Protocol.TCP, "198.19.0.3", 80).resolve(endpoint("198.18.0.31", 8080)));
        IpvsRenderer.Desired first = IpvsRenderer.render(before, settings, catalog);
        IpvsKernelState applied = IpvsChanges.fromScratch(first, "").applied(first);

        ProxyState after = Fixtures.state(
                port("ns1", "web", "", Protocol.TCP, "198.19.0.1", 80).nodePort(30080)
                        .resolve(endpoint("198.18.0.11", 8080), endpoint("198.18.0.13", 8080)),
                port("kube-system", "dns", "dns", Protocol.UDP, "198.19.0.53", 53).resolve(endpoint("198.18.0.53", 53)),
                port("ns1", "resched", "", Protocol.TCP, "198.19.0.3", 80).option(SchedulerCatalog.SCHEDULER_KEY, "sh")
                        .resolve(endpoint("198.18.0.31", 8080)),
                port("ns1", "new", "", Protocol.TCP, "198.19.0.4", 80).resolve(localEndpoint("198.18.0.41", 8080)));
        IpvsRenderer.Desired next = IpvsRenderer.render(after, settings, catalog);
        IpvsChanges partial = IpvsChanges.between(next, applied,
                IpvsDiff.owned(applied.addresses(), settings.nodeIPs(), settings.excludeCIDRs()), false, "not written");
        assertEquals("", partial.iptables(), "a partial sync writes no iptables rules");

        String table = IpvsDiff.between(partial.plan().result(), IpvsKernelState.EMPTY.table(), v -> true).restoreText();
        GOLDEN.check("ipvs-partial", partial.text() + "# the kernel afterwards (as ipvsadm -Sn lists it)\n" + table);
        assertTrue(partial.applied(next).desiredRealServers().stream().noneMatch(k -> k.contains("198.18.0.12")),
                "the draining server is in the table but not desired, so housekeeping deletes it once drained");
    }
}
