package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.kubeferry.proxy.model.Endpoint;
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
                new Case(slice().withAddressType("IPv6").build(), "ipv6-only"),
                new Case(slice().withAddressType("FQDN").build(), "fqdn-slice"),
                new Case(slice().withAddressType("IP").build(), "invalid-address-type"))) {
            EndpointSliceConverter.Slice s = converter.convert(c.slice());
            assertEquals(List.of("skip:" + c.reason()), reasons(s));
            assertTrue(s.endpoints().isEmpty());
        }
        assertTrue(converter.convert(slice().withAddressType("FQDN").build()).skipped().contains("kube-ferry is IPv4-only"));
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
}
