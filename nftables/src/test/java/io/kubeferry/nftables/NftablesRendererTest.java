package io.kubeferry.nftables;

import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Full renders: golden files of the transaction, each applied to a fresh {@link FakeNft} whose table must then hold
 * every rule and element the transaction adds; and upstream's own expected table for its overall test.
 */
class NftablesRendererTest {

    static final String F = NftFamily.IPV4.name();
    static final String T = NftablesRenderer.TABLE;

    /** Upstream's test proxier: pod CIDR 10.0.0.0/8, ServiceCIDR 172.30.0.0/16, NodePorts on 192.168.0.2 only. */
    static final NftablesSettings SETTINGS = new NftablesSettings("0x4000", false, "10.0.0.0/8", List.of("192.168.0.2"),
            "192.168.0.2", List.of("172.30.0.0/16"));

    private final NftablesRenderer renderer = new NftablesRenderer(new NftNames(1000));

    static String full(NftablesRenderer renderer, ProxyState state, NftablesSettings settings) {
        return renderer.render(state, settings, Set.of(), true, null, null, 0).main().render();
    }

    /** Renders, compares with the golden file, applies to a fresh fake and checks the fake holds what was added. */
    private void golden(String name, NftablesSettings settings, ResolvedService... services) throws IOException {
        golden(renderer, name, Fixtures.state(services), settings);
    }

    /** {@link #golden(String, NftablesSettings, ResolvedService...)} with any renderer and state (the IPv6 twins'). */
    static void golden(NftablesRenderer renderer, String name, ProxyState state, NftablesSettings settings) throws IOException {
        NftSync sync = renderer.render(state, settings, Set.of(), true, null, null, 0);
        assertTrue(sync.cleanup().isEmpty());
        String text = sync.main().render();
        NftGolden.check(name, text);
        FakeNft nft = new FakeNft();
        nft.apply(sync.main());
        Set<String> held = Set.of(nft.dump(renderer.family().name(), T).split("\n"));
        for (String line : text.split("\n")) {
            boolean kept = line.startsWith("add rule ") || line.startsWith("add element ")
                    || (line.startsWith("add chain ")
                            && !text.contains("delete chain " + line.substring(4).split(" \\{")[0].substring(6).trim() + "\n")
                            && !line.contains(" type "));
            if (kept) {
                assertTrue(held.contains(line), name + ": the fake's table lacks " + line);
            }
        }
    }

    /** Upstream's TestOverallNFTablesRules objects: ClusterIP, NodePort, LB with source ranges and affinity, ETP Local, no endpoints. */
    static ResolvedService[] upstreamOverall() {
        return new ResolvedService[] {
                port("ns1", "svc1", "p80", Protocol.TCP, "172.30.0.41", 80).resolve(endpoint("10.180.0.1", 80)),
                port("ns2", "svc2", "p80", Protocol.TCP, "172.30.0.42", 80).nodePort(3001).loadBalancerIP("1.2.3.4")
                        .externalIP("192.168.99.22").externalLocal(30000).resolve(endpoint("10.180.0.2", 80)),
                port("ns3", "svc3", "p80", Protocol.TCP, "172.30.0.43", 80).nodePort(3003).resolve(endpoint("10.180.0.3", 80)),
                port("ns4", "svc4", "p80", Protocol.TCP, "172.30.0.44", 80).externalIP("192.168.99.33")
                        .resolve(endpoint("10.180.0.4", 80), localEndpoint("10.180.0.5", 80)),
                port("ns5", "svc5", "p80", Protocol.TCP, "172.30.0.45", 80).nodePort(3002).loadBalancerIP("5.6.7.8")
                        .sourceRange("203.0.113.0/25").sticky(10800).resolve(endpoint("10.180.0.3", 80)),
                port("ns6", "svc6", "p80", Protocol.TCP, "172.30.0.46", 80).resolve()};
    }

    @Test
    void upstreamOverallTable() throws IOException {
        ProxyState state = Fixtures.state(upstreamOverall());
        FakeNft nft = new FakeNft();
        nft.apply(renderer.render(state, SETTINGS, Set.of(), true, null, null, 0).main());
        String expected = Files.readString(Path.of("src/test/resources/upstream/overall.txt"));
        assertEquals(NftGolden.canonical(NftGolden.upstreamWithCascade(expected)), NftGolden.canonical(nft.dump(F, T)));
    }

    @Test
    void clusterIP() throws IOException {
        golden("clusterip", SETTINGS,
                port("ns1", "svc1", "p80", Protocol.TCP, "172.30.0.41", 80).resolve(endpoint("10.180.0.1", 80),
                        endpoint("10.180.0.2", 8080)));
    }

    @Test
    void nodePort() throws IOException {
        golden("nodeport", SETTINGS,
                port("ns3", "svc3", "p80", Protocol.TCP, "172.30.0.43", 80).nodePort(3003).resolve(endpoint("10.180.0.3", 80)));
    }

    @Test
    void nodePortOnEveryLocalAddressAndMasqueradeAll() throws IOException {
        golden("nodeport-all-masquerade-all", SETTINGS.withNodePortIPs(null).withMasqueradeAll(true).withServiceCIDRs(List.of()),
                port("ns3", "svc3", "p80", Protocol.TCP, "172.30.0.43", 80).nodePort(3003).resolve(endpoint("10.180.0.3", 80)));
    }

    @Test
    void externalIPs() throws IOException {
        golden("externalip", SETTINGS,
                port("ns4", "svc4", "p80", Protocol.TCP, "172.30.0.44", 80).externalIP("192.168.99.33").externalIP("192.168.99.34")
                        .resolve(endpoint("10.180.0.4", 80), localEndpoint("10.180.0.5", 80)));
    }

    @Test
    void loadBalancerWithSourceRanges() throws IOException {
        // The second range holds the node's address: the LB IP is then admitted as a source too.
        golden("loadbalancer-sourceranges", SETTINGS,
                port("ns5", "svc5", "p80", Protocol.TCP, "172.30.0.45", 80).nodePort(3002).loadBalancerIP("5.6.7.8")
                        .sourceRange("203.0.113.0/25").sourceRange("192.168.0.0/24").resolve(endpoint("10.180.0.3", 80)));
    }

    @Test
    void externalTrafficPolicyLocal() throws IOException {
        golden("etp-local", SETTINGS,
                port("ns2", "svc2", "p80", Protocol.TCP, "172.30.0.42", 80).nodePort(3001).loadBalancerIP("1.2.3.4")
                        .externalLocal(30000).resolve(endpoint("10.180.0.2", 80), localEndpoint("10.180.0.3", 80)));
    }

    @Test
    void externalTrafficPolicyLocalWithoutLocalEndpoints() throws IOException {
        golden("etp-local-none", SETTINGS,
                port("ns2", "svc2", "p80", Protocol.TCP, "172.30.0.42", 80).nodePort(3001).loadBalancerIP("1.2.3.4")
                        .externalIP("192.168.99.22").externalLocal(30000).resolve(endpoint("10.180.0.2", 80)));
    }

    @Test
    void internalTrafficPolicyLocal() throws IOException {
        golden("itp-local", SETTINGS,
                port("ns7", "svc7", "p80", Protocol.TCP, "172.30.0.47", 80).internalLocal()
                        .resolve(endpoint("10.180.0.7", 80), localEndpoint("10.180.0.8", 80)),
                port("ns7", "svc8", "p80", Protocol.TCP, "172.30.0.48", 80).internalLocal().resolve(endpoint("10.180.0.9", 80)));
    }

    @Test
    void clientIPAffinity() throws IOException {
        golden("affinity", SETTINGS,
                port("ns5", "svc5", "p80", Protocol.TCP, "172.30.0.45", 80).sticky(10800)
                        .resolve(endpoint("10.180.0.3", 80), endpoint("10.180.0.4", 80)));
    }

    @Test
    void noEndpoints() throws IOException {
        golden("no-endpoints", SETTINGS,
                port("ns6", "svc6", "p80", Protocol.TCP, "172.30.0.46", 80).nodePort(3006).externalIP("192.168.99.66")
                        .loadBalancerIP("6.6.6.6").sourceRange("203.0.113.0/25").resolve());
    }

    @Test
    void udpAndSctp() throws IOException {
        golden("udp-sctp", SETTINGS,
                port("kube-system", "dns", "dns", Protocol.UDP, "172.30.0.10", 53).nodePort(30053).resolve(endpoint("10.180.0.53", 5353)),
                port("ns9", "sctp", "", Protocol.SCTP, "172.30.0.90", 9999).nodePort(30999).resolve(endpoint("10.180.0.90", 9999)));
    }

    @Test
    void emptyState() throws IOException {
        golden("empty", SETTINGS);
    }
}
