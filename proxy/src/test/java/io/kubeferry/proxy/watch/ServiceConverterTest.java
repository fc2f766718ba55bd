package io.kubeferry.proxy.watch;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePort;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceConverterTest {

    private final ServiceConverter converter = new ServiceConverter("");

    static ServiceBuilder svc() {
        return new ServiceBuilder().withNewMetadata().withName("web").withNamespace("ns").endMetadata()
                .withNewSpec().withClusterIP("198.19.0.1").withClusterIPs("198.19.0.1")
                .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString(8080)).endPort().endSpec();
    }

    @Test
    void convertsEveryField() {
        Service s = svc().editMetadata().addToAnnotations("kube-ferry.io/scheduler", "sh").addToAnnotations("other", "x").endMetadata()
                .editSpec().withType("LoadBalancer").editFirstPort().withNodePort(30080).withProtocol("UDP").endPort()
                .withExternalIPs("198.19.100.1", "bogus").withLoadBalancerSourceRanges("198.18.0.5/24", "nope")
                .withExternalTrafficPolicy("Local").withHealthCheckNodePort(31000).withInternalTrafficPolicy("Local")
                .withSessionAffinity("ClientIP").endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("198.19.200.1").endIngress()
                .addNewIngress().withIp("198.19.200.2").withIpMode("Proxy").endIngress().endLoadBalancer().endStatus().build();
        ServiceConverter.Result r = converter.convert(s);
        assertNull(r.skipped());
        ServicePort p = r.ports().get(0);
        assertEquals("ns/web:http", p.name().toString());
        assertEquals(Protocol.UDP, p.protocol());
        assertEquals(30080, p.nodePort());
        assertEquals(java.util.List.of("198.19.100.1"), p.externalIPs());
        assertEquals(java.util.List.of("198.19.200.1"), p.loadBalancerIPs(), "ipMode Proxy ingress is not captured");
        assertEquals(java.util.List.of("198.18.0.0/24"), p.loadBalancerSourceRanges());
        assertTrue(p.externalPolicyLocal() && p.internalPolicyLocal());
        assertEquals(31000, p.healthCheckNodePort());
        assertEquals(10800, p.stickyMaxAgeSeconds());
        assertEquals(java.util.Map.of("kube-ferry.io/scheduler", "sh"), p.options());
        assertEquals(2, r.warnings().size(), "bad externalIP and bad source range are reported: " + r.warnings());
    }

    @Test
    void skipsWhatUpstreamDoesNotProxy() {
        assertTrue(converter.convert(svc().editSpec().withType("ExternalName").endSpec().build()).skipped().contains("ExternalName"));
        assertTrue(converter.convert(svc().editSpec().withClusterIP("None").withClusterIPs("None").endSpec().build()).skipped().contains("headless"));
        assertTrue(converter.convert(svc().editSpec().withClusterIP("fd00::1").withClusterIPs("fd00::1").endSpec().build()).skipped().contains("IPv4"));
        assertTrue(converter.convert(svc().editMetadata().addToLabels(ServiceConverter.SERVICE_PROXY_NAME, "other").endMetadata().build())
                .skipped() != null);
        assertTrue(converter.convert(svc().editMetadata().addToLabels(ServiceConverter.HEADLESS, "").endMetadata().build()).skipped() != null);
    }

    @Test
    void dualStackKeepsTheIPv4ClusterIP() {
        Service s = svc().editSpec().withClusterIP("fd00::1").withClusterIPs("fd00::1", "198.19.0.9").endSpec().build();
        assertEquals("198.19.0.9", converter.convert(s).ports().get(0).clusterIP());
    }

    @Test
    void serviceProxyNameSelectsLabelledServices() {
        ServiceConverter named = new ServiceConverter("kube-ferry");
        assertNull(named.convert(svc().editMetadata().addToLabels(ServiceConverter.SERVICE_PROXY_NAME, "kube-ferry").endMetadata().build()).skipped());
        assertTrue(named.convert(svc().editMetadata().addToLabels(ServiceConverter.SERVICE_PROXY_NAME, "other").endMetadata().build()).skipped() != null);
        assertNull(named.convert(svc().build()).skipped(), "unlabelled Services are still served");
    }

    @Test
    void aBadPortDropsOnlyThatPort() {
        Service s = svc().editSpec().addNewPort().withName("bad").withPort(70000).endPort()
                .addNewPort().withName("weird").withPort(81).withProtocol("ICMP").endPort().endSpec().build();
        ServiceConverter.Result r = converter.convert(s);
        assertEquals(1, r.ports().size());
        assertEquals(2, r.warnings().size());
    }
}
