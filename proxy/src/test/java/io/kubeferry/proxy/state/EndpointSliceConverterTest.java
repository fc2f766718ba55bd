package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EndpointSliceConverterTest {

    private final EndpointSliceConverter converter = new EndpointSliceConverter("node-a");

    static EndpointSliceBuilder slice() {
        return new EndpointSliceBuilder().withNewMetadata().withName("web-abc").withNamespace("ns")
                .addToLabels(EndpointSliceConverter.SERVICE_NAME_LABEL, "web").endMetadata().withAddressType("IPv4")
                .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort()
                .addNewEndpoint().withAddresses("198.18.0.2").withNodeName("node-a").endEndpoint();
    }

    private static List<String> reasons(EndpointSliceConverter.Slice s) {
        return s.problems().stream().map(p -> (p.whole() ? "skip:" : "drop:") + p.reason()).toList();
    }

    @Test
    void aGoodSlice() {
        EndpointSliceConverter.Slice s = converter.convert(slice().build());
        assertNull(s.skipped());
        assertEquals("ns/web", s.serviceKey());
        assertEquals(IpFamily.IPv4, s.family());
        List<Endpoint> eps = s.endpoints().get(new EndpointSliceConverter.PortKey("http", Protocol.TCP));
        assertEquals("198.18.0.2:8080", eps.get(0).hostPort());
        assertTrue(eps.get(0).local());
        assertTrue(s.problems().isEmpty());
    }

    @Test
    void wholeSliceProblems() {
        record Case(EndpointSlice slice, String reason) {
        }
        for (Case c : List.of(
                new Case(slice().editMetadata().withLabels(java.util.Map.of()).endMetadata().build(), "missing-service-name-label"),
                new Case(slice().editMetadata().addToLabels(EndpointSliceConverter.SERVICE_NAME_LABEL, "web\"x").endMetadata().build(),
                        "invalid-service-name-label"),
                new Case(slice().editMetadata().withName("Web_Slice").endMetadata().build(), "invalid-name"),
                new Case(slice().editMetadata().withNamespace("n s").endMetadata().build(), "invalid-name"),
                new Case(slice().withAddressType("FQDN").build(), "fqdn-slice"),
                new Case(slice().withAddressType("IP").build(), "invalid-address-type"))) {
            EndpointSliceConverter.Slice s = converter.convert(c.slice());
            assertEquals(List.of("skip:" + c.reason()), reasons(s));
            assertTrue(s.endpoints().isEmpty());
        }
        assertTrue(converter.convert(slice().withAddressType("FQDN").build()).skipped().contains("only IP endpoints are proxied"));
        // An IPv6 slice is no longer skipped: its IPv4 address is that endpoint's problem, not the slice's.
        EndpointSliceConverter.Slice v6 = converter.convert(slice().withAddressType("IPv6").build());
        assertNull(v6.skipped());
        assertEquals(IpFamily.IPv6, v6.family());
        assertEquals(List.of("drop:address-family-mismatch"), reasons(v6));
    }

    @Test
    void badPortsAndAddressesAreDropped() {
        EndpointSlice s = slice()
                .addNewPort().withName("http").withPort(8081).withProtocol("TCP").endPort()
                .addNewPort().withName("Bad").withPort(8082).withProtocol("TCP").endPort()
                .addNewPort().withName("none").withProtocol("TCP").endPort()
                .addNewPort().withName("icmp").withPort(1).withProtocol("ICMP").endPort()
                .addNewEndpoint().withAddresses("999.1.2.3").endEndpoint()
                .addNewEndpoint().withAddresses("127.0.0.1").endEndpoint()
                .addNewEndpoint().endEndpoint()
                .addNewEndpoint().withAddresses("198.18.0.3").withNewHints().addNewForZone().endForZone().endHints().endEndpoint()
                .build();
        EndpointSliceConverter.Slice r = converter.convert(s);
        assertEquals(List.of("drop:invalid-endpoint-address", "drop:duplicate-port-name", "drop:invalid-port-name",
                "drop:invalid-port", "drop:invalid-protocol"), reasons(r));
        assertEquals(List.of("198.18.0.2:8080", "198.18.0.3:8080"),
                r.endpoints().get(new EndpointSliceConverter.PortKey("http", Protocol.TCP))
                        .stream().map(Endpoint::hostPort).toList());
        String message = r.problems().get(0).message();
        assertTrue(message.startsWith("3 endpoint(s) dropped: endpoints[1] \"999.1.2.3\", endpoints[2] \"127.0.0.1\", endpoints[3]"),
                message);
    }

    static EndpointSliceBuilder ipv6Slice() {
        return new EndpointSliceBuilder().withNewMetadata().withName("web-v6").withNamespace("ns")
                .addToLabels(EndpointSliceConverter.SERVICE_NAME_LABEL, "web").endMetadata().withAddressType("IPv6")
                .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort();
    }

    @Test
    void anIPv6SliceRecordsItsFamilyAndCanonicalAddresses() {
        EndpointSliceConverter.Slice s = converter.convert(ipv6Slice()
                .addNewEndpoint().withAddresses("2001:DB8:0:0::2").withNodeName("node-a").endEndpoint()
                .addNewEndpoint().withAddresses("2001:db8::3").withNodeName("node-b").endEndpoint().build());
        assertNull(s.skipped());
        assertEquals(IpFamily.IPv6, s.family());
        List<Endpoint> eps = s.endpoints().get(new EndpointSliceConverter.PortKey("http", Protocol.TCP));
        assertEquals(List.of("[2001:db8::2]:8080", "[2001:db8::3]:8080"), eps.stream().map(Endpoint::hostPort).toList());
        assertEquals(IpFamily.IPv6, eps.get(0).family());
        assertTrue(eps.get(0).local());
        assertEquals(List.of(), s.problems());
    }

    @Test
    void anAddressOfTheOtherFamilyIsThatEndpointsProblem() {
        EndpointSliceConverter.Slice v6 = converter.convert(ipv6Slice()
                .addNewEndpoint().withAddresses("2001:db8::2").endEndpoint()
                .addNewEndpoint().withAddresses("198.18.0.9").endEndpoint()
                .addNewEndpoint().withAddresses("::1").endEndpoint()
                .addNewEndpoint().withAddresses("::ffff:198.18.0.9").endEndpoint()
                .addNewEndpoint().withAddresses("bogus").endEndpoint().build());
        assertEquals(List.of("[2001:db8::2]:8080"), v6.endpoints().get(new EndpointSliceConverter.PortKey("http", Protocol.TCP)).stream()
                .map(Endpoint::hostPort).toList());
        assertEquals(List.of("drop:address-family-mismatch", "drop:invalid-endpoint-address"), reasons(v6));
        assertEquals("1 endpoint(s) dropped: endpoints[1] \"198.18.0.9\": is an IPv4 address in a slice of addressType IPv6",
                v6.problems().get(0).message());
        assertTrue(v6.problems().get(1).message().startsWith("3 endpoint(s) dropped: endpoints[2] \"::1\", endpoints[3]"),
                v6.problems().get(1).message());

        EndpointSliceConverter.Slice v4 = converter.convert(slice().addNewEndpoint().withAddresses("2001:db8::2").endEndpoint().build());
        assertEquals(List.of("198.18.0.2:8080"), v4.endpoints().get(new EndpointSliceConverter.PortKey("http", Protocol.TCP)).stream()
                .map(Endpoint::hostPort).toList());
        assertEquals(List.of("drop:address-family-mismatch"), reasons(v4));
        assertTrue(v4.problems().get(0).message().endsWith("is an IPv6 address in a slice of addressType IPv4"),
                v4.problems().get(0).message());
    }
}
