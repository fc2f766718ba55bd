package io.kubeferry.nftables;

import io.kubeferry.proxy.model.IpFamily;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IPv6 instance's renders ({@code table ip6 kube-proxy}): the IPv6 twins of {@link NftablesRendererTest}'s golden
 * scenarios, the same Services (the IPv6 half of dual-stack Services) with IPv6 addresses (pods 2001:db8::/64,
 * ServiceCIDR 2001:db8:1::/112, node 2001:db8:2::1, external and LB IPs 2001:db8:99::/64 and 2001:db8:10::/64),
 * and upstream's own IPv6 table for the objects of its overall test, dumped from upstream's proxier.
 */
class NftablesRendererIPv6Test {

    static final String F6 = NftFamily.IPV6.name();
    static final String T = NftablesRenderer.TABLE;

    /** The IPv6 half of NftablesRendererTest.SETTINGS: pod CIDR, NodePorts on the node's address only, one ServiceCIDR. */
    static final NftablesSettings SETTINGS = new NftablesSettings("0x4000", false, "2001:db8::/64", List.of("2001:db8:2::1"),
            "2001:db8:2::1", List.of("2001:db8:1::/112"));

    private final NftablesRenderer renderer = new NftablesRenderer(new NftNames(1000), NftablesScheduling.defaults(), NftFamily.IPV6);

    /** An IPv6 state of the services. */
    static ProxyState ipv6(ResolvedService... services) {
        ProxyState v4 = Fixtures.state(services);
        return new ProxyState(v4.node(), v4.services(), v4.generation(), List.of(), IpFamily.IPv6);
    }

    private void golden(String name, NftablesSettings settings, ResolvedService... services) throws IOException {
        NftablesRendererTest.golden(renderer, name, ipv6(services), settings);
    }

    @Test
    void clusterIP() throws IOException {
        golden("clusterip-ipv6", SETTINGS, port("ns1", "svc1", "p80", Protocol.TCP, "2001:db8:1::41", 80)
                .resolve(endpoint("2001:db8::180:1", 80), endpoint("2001:db8::180:2", 8080)));
    }

    @Test
    void nodePort() throws IOException {
        golden("nodeport-ipv6", SETTINGS,
                port("ns3", "svc3", "p80", Protocol.TCP, "2001:db8:1::43", 80).nodePort(3003).resolve(endpoint("2001:db8::180:3", 80)));
    }

    /** NodePorts on every local address: {@code fib daddr type local ip6 daddr != ::1}, never loopback. */
    @Test
    void nodePortOnEveryLocalAddressAndMasqueradeAll() throws IOException {
        golden("nodeport-all-masquerade-all-ipv6", SETTINGS.withNodePortIPs(null).withMasqueradeAll(true).withServiceCIDRs(List.of()),
                port("ns3", "svc3", "p80", Protocol.TCP, "2001:db8:1::43", 80).nodePort(3003).resolve(endpoint("2001:db8::180:3", 80)));
    }

    @Test
    void externalIPs() throws IOException {
        golden("externalip-ipv6", SETTINGS,
                port("ns4", "svc4", "p80", Protocol.TCP, "2001:db8:1::44", 80).externalIP("2001:db8:99::33").externalIP("2001:db8:99::34")
                        .resolve(endpoint("2001:db8::180:4", 80), localEndpoint("2001:db8::180:5", 80)));
    }

    /** The second range holds the node's address: the LB IP is then admitted as a source too; a /128 stays a /128. */
    @Test
    void loadBalancerWithSourceRanges() throws IOException {
        golden("loadbalancer-sourceranges-ipv6", SETTINGS,
                port("ns5", "svc5", "p80", Protocol.TCP, "2001:db8:1::45", 80).nodePort(3002).loadBalancerIP("2001:db8:10::8")
                        .sourceRange("2001:db8:113::/64").sourceRange("2001:db8:2::/64").sourceRange("2001:db8:114::7/128")
                        .resolve(endpoint("2001:db8::180:3", 80)));
    }

    @Test
    void externalTrafficPolicyLocal() throws IOException {
        golden("etp-local-ipv6", SETTINGS,
                port("ns2", "svc2", "p80", Protocol.TCP, "2001:db8:1::42", 80).nodePort(3001).loadBalancerIP("2001:db8:10::4")
                        .externalLocal(30000).resolve(endpoint("2001:db8::180:2", 80), localEndpoint("2001:db8::180:3", 80)));
    }

    @Test
    void externalTrafficPolicyLocalWithoutLocalEndpoints() throws IOException {
        golden("etp-local-none-ipv6", SETTINGS,
                port("ns2", "svc2", "p80", Protocol.TCP, "2001:db8:1::42", 80).nodePort(3001).loadBalancerIP("2001:db8:10::4")
                        .externalIP("2001:db8:99::22").externalLocal(30000).resolve(endpoint("2001:db8::180:2", 80)));
    }

    @Test
    void internalTrafficPolicyLocal() throws IOException {
        golden("itp-local-ipv6", SETTINGS,
                port("ns7", "svc7", "p80", Protocol.TCP, "2001:db8:1::47", 80).internalLocal()
                        .resolve(endpoint("2001:db8::180:7", 80), localEndpoint("2001:db8::180:8", 80)),
                port("ns7", "svc8", "p80", Protocol.TCP, "2001:db8:1::48", 80).internalLocal().resolve(endpoint("2001:db8::180:9", 80)));
    }

    /** Affinity sets of type ipv6_addr, updated with {@code ip6 saddr}. */
    @Test
    void clientIPAffinity() throws IOException {
        golden("affinity-ipv6", SETTINGS, port("ns5", "svc5", "p80", Protocol.TCP, "2001:db8:1::45", 80).sticky(10800)
                .resolve(endpoint("2001:db8::180:3", 80), endpoint("2001:db8::180:4", 80)));
    }

    @Test
    void noEndpoints() throws IOException {
        golden("no-endpoints-ipv6", SETTINGS,
                port("ns6", "svc6", "p80", Protocol.TCP, "2001:db8:1::46", 80).nodePort(3006).externalIP("2001:db8:99::66")
                        .loadBalancerIP("2001:db8:10::6").sourceRange("2001:db8:113::/64").resolve());
    }

    @Test
    void udpAndSctp() throws IOException {
        golden("udp-sctp-ipv6", SETTINGS,
                port("kube-system", "dns", "dns", Protocol.UDP, "2001:db8:1::10", 53).nodePort(30053)
                        .resolve(endpoint("2001:db8::180:53", 5353)),
                port("ns9", "sctp", "", Protocol.SCTP, "2001:db8:1::90", 9999).nodePort(30999).resolve(endpoint("2001:db8::180:90", 9999)));
    }

    /** The skeleton an IPv6 state without Services gives (every node running IPv6 has it). */
    @Test
    void emptyState() throws IOException {
        golden("empty-ipv6", SETTINGS);
    }

    /** Upstream's fake proxier for IPv6 (NewFakeProxier(IPv6)): pod CIDR fd00:10::/64, ServiceCIDR fd00:10:96::/112. */
    static final NftablesSettings UPSTREAM = new NftablesSettings("0x4000", false, "fd00:10::/64", List.of("2001:db8::1"),
            "2001:db8::1", List.of("fd00:10:96::/112"));

    /**
     * TestOverallNFTablesRules' objects with IPv6 addresses, through upstream 1.35.4's own proxier (NewFakeProxier(IPv6),
     * the dump in src/test/resources/upstream/overall-ipv6.txt, made by running upstream's package with a test that
     * builds these objects and writes knftables' Fake.Dump()): kube-ferry's IPv6 table equals it but for the cascade.
     */
    @Test
    void upstreamOverallTableForIPv6() throws IOException {
        ProxyState state = ipv6(
                port("ns1", "svc1", "p80", Protocol.TCP, "fd00:172:30::41", 80).resolve(endpoint("fd00:10:180::1", 80)),
                port("ns2", "svc2", "p80", Protocol.TCP, "fd00:172:30::42", 80).nodePort(3001).loadBalancerIP("2001:db8:10::4")
                        .externalIP("2001:db8:99::22").externalLocal(30000).resolve(endpoint("fd00:10:180::2", 80)),
                port("ns3", "svc3", "p80", Protocol.TCP, "fd00:172:30::43", 80).nodePort(3003).resolve(endpoint("fd00:10:180::3", 80)),
                port("ns4", "svc4", "p80", Protocol.TCP, "fd00:172:30::44", 80).externalIP("2001:db8:99::33")
                        .resolve(endpoint("fd00:10:180::4", 80), localEndpoint("fd00:10:180::5", 80)),
                port("ns5", "svc5", "p80", Protocol.TCP, "fd00:172:30::45", 80).nodePort(3002).loadBalancerIP("2001:db8:10::8")
                        .sourceRange("2001:db8:113::/64").sourceRange("2001:db8::1/128").sticky(10800)
                        .resolve(endpoint("fd00:10:180::3", 80)),
                port("ns6", "svc6", "p80", Protocol.TCP, "fd00:172:30::46", 80).resolve());
        FakeNft nft = new FakeNft();
        nft.apply(renderer.render(state, UPSTREAM, Set.of(), true, null, null, 0).main());
        String expected = Files.readString(Path.of("src/test/resources/upstream/overall-ipv6.txt"));
        assertEquals(NftGolden.canonical(NftGolden.upstreamWithCascade(expected)), NftGolden.canonical(nft.dump(F6, T)));
    }

    /**
     * A dual-stack Service is in both tables, each instance writing only its own: the Service's chains have the same
     * names in both (the name hashes the Service port, not an address), its endpoint chains carry each family's
     * endpoint, and neither table holds an address of the other family.
     */
    @Test
    void aDualStackServiceIsInBothTablesEachWithItsOwnFamily() {
        NftablesRenderer v4 = new NftablesRenderer(new NftNames(1000));
        ResolvedService half4 = port("ns1", "svc1", "p80", Protocol.TCP, "172.30.0.41", 80).nodePort(3001).sticky(600)
                .resolve(endpoint("10.180.0.1", 80));
        ResolvedService half6 = port("ns1", "svc1", "p80", Protocol.TCP, "2001:db8:1::41", 80).nodePort(3001).sticky(600)
                .resolve(endpoint("2001:db8::180:1", 80));
        FakeNft nft = new FakeNft();
        nft.apply(v4.render(Fixtures.state(half4), NftablesRendererTest.SETTINGS, Set.of(), true, null, null, 0).main());
        nft.apply(renderer.render(ipv6(half6), SETTINGS, Set.of(), true, null, null, 0).main());
        String dump4 = nft.dump("ip", T);
        String dump6 = nft.dump(F6, T);
        NftNames names = new NftNames(10);
        String service = names.of(half4.name()).cluster();
        assertTrue(nft.chains("ip", T).contains(service) && nft.chains(F6, T).contains(service), service);
        String ep6 = names.endpoint(half6.name(), half6.clusterEndpoints().get(0));
        assertTrue(ep6.endsWith("-ns1/svc1/tcp/p80__2001.db8..180.1/80"), "upstream's name: ':' replaced by '.': " + ep6);
        assertTrue(nft.rules(F6, T, ep6).contains("meta l4proto tcp dnat to [2001:db8::180:1]:80"), nft.rules(F6, T, ep6).toString());
        assertEquals("ipv6_addr", nft.container(F6, T, NftNames.affinitySet(ep6)).type());
        assertTrue(nft.elements(F6, T, NftablesRenderer.SERVICE_NODEPORTS).containsKey("tcp . 3001"));
        assertFalse(dump6.contains("172.30.") || dump6.contains("10.180.") || dump6.contains(" ip daddr") || dump6.contains(" ip saddr"),
                dump6);
        assertFalse(dump4.contains("2001:db8") || dump4.contains("ip6 ") || dump4.contains("ipv6_addr"), dump4);
    }

    /** One instance per family: an IPv4 state given to the IPv6 renderer is a wiring mistake, refused. */
    @Test
    void anotherFamilysStateIsRefused() {
        ProxyState v4 = Fixtures.state(port("ns1", "svc1", "p80", Protocol.TCP, "172.30.0.41", 80).resolve(endpoint("10.180.0.1", 80)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> renderer.render(v4, SETTINGS, Set.of(), true, null, null, 0));
        assertTrue(e.getMessage().contains("ip6") && e.getMessage().contains("IPv4"), e.getMessage());
    }
}
