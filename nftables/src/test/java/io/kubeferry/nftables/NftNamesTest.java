package io.kubeferry.nftables;

import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.testing.Fixtures;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Expected names copied from upstream's own tests (k/k v1.35.4 pkg/proxy/nftables/proxier_test.go). */
class NftNamesTest {

    private final NftNames names = new NftNames(100);

    @Test
    void serviceChainNamesAsUpstream() {
        assertEquals("service-P4ZYZVCF-testing/service/tcp/http",
                names.of(Fixtures.name("testing", "service", "http", Protocol.TCP)).cluster());
        assertEquals("local-LZBRENCP-testing/service/tcp/https",
                names.of(Fixtures.name("testing", "service", "https", Protocol.TCP)).local());
        assertEquals("service-ULMVA6XW-ns1/svc1/tcp/p80", names.of(Fixtures.name("ns1", "svc1", "p80", Protocol.TCP)).cluster());
        assertEquals("external-42NFTM6N-ns2/svc2/tcp/p80", names.of(Fixtures.name("ns2", "svc2", "p80", Protocol.TCP)).external());
        assertEquals("firewall-HVFWP5L3-ns5/svc5/tcp/p80", names.of(Fixtures.name("ns5", "svc5", "p80", Protocol.TCP)).firewall());
        String ns = "very-long-namespace-name-abcdefghijklmnopqrstuvwxyz0123456789xx";
        String svc = "very-long-service-name-why-would-you-even-do-this-i-mean-really";
        String port = "port-443-providing-the-hypertext-transmission-protocol-with-tls";
        assertEquals("service-KR6NACJP-" + ns + "/" + svc + "/sctp/" + port,
                names.of(Fixtures.name(ns, svc, port, Protocol.SCTP)).cluster());
    }

    @Test
    void endpointChainNamesAsUpstream() {
        assertEquals("endpoint-JO2XBXZR-testing/service/tcp/http__10.180.0.1/80",
                names.endpoint(Fixtures.name("testing", "service", "http", Protocol.TCP), Fixtures.endpoint("10.180.0.1", 80)));
        assertEquals("endpoint-5S6H3H22-testing/service/tcp/http__10.180.0.2/80",
                names.endpoint(Fixtures.name("testing", "service", "http", Protocol.TCP), Fixtures.endpoint("10.180.0.2", 80)));
        assertEquals("endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80",
                names.endpoint(Fixtures.name("ns1", "svc1", "p80", Protocol.TCP), Fixtures.endpoint("10.180.0.1", 80)));
        assertEquals("affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80", NftNames.affinitySet(
                names.endpoint(Fixtures.name("ns5", "svc5", "p80", Protocol.TCP), Fixtures.endpoint("10.180.0.3", 80))));
    }

    @Test
    void truncatedAsUpstream() {
        String ns = "very-long-namespace-name-abcdefghijklmnopqrstuvwxyz0123456789xx";
        String svc = "very-long-service-name-why-would-you-even-do-this-i-mean-really";
        String port = "port-443-providing-the-hypertext-transmission-protocol-with-tls";
        // The IPv6 cases of upstream's test: the colons become dots before hashing.
        String base = ns + "/" + svc + "/sctp/" + port + "__1234.5678.9abc.def0..abcd.1234.5678/443";
        assertEquals("CI6C53Q3-" + ns + "/" + svc + "/sctp/" + port + "__1234.5678.9abc.def0..abcd.1234...",
                NftNames.hashAndTruncate(base));
        assertEquals(NftNames.BASE_MAX, NftNames.hashAndTruncate(base).length());
        assertEquals("U7E2ET36-testing/service/tcp/http__fd80.abcd.12..a1b2.c3d4.e5f6.9999/80",
                NftNames.hashAndTruncate("testing/service/tcp/http__fd80.abcd.12..a1b2.c3d4.e5f6.9999/80"));
    }

    @Test
    void serviceChainsAreTheOnesWithASlash() {
        assertTrue(NftNames.isServiceChain("service-ULMVA6XW-ns1/svc1/tcp/p80"));
        assertFalse(NftNames.isServiceChain("services"));
        assertFalse(NftNames.isServiceChain("mark-for-masquerade"));
    }
}
