package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePort;
import org.junit.jupiter.api.Test;

import java.util.List;

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
        assertTrue(converter.convert(svc().editSpec().withClusterIP("None").withClusterIPs("None").endSpec().build()).skipped()
                .contains("headless"));
        ServiceConverter.Result ipv6Only = converter
                .convert(svc().editSpec().withClusterIP("fd00::1").withClusterIPs("fd00::1").endSpec().build());
        assertNull(ipv6Only.skipped(), "an IPv6-only Service is served, in IPv6");
        assertEquals(List.of("fd00::1"), ipv6Only.ports(IpFamily.IPv6).stream().map(ServicePort::clusterIP).toList());
        assertEquals(List.of(), ipv6Only.ports(IpFamily.IPv4));
        assertTrue(converter.convert(svc().editMetadata().addToLabels(ServiceConverter.SERVICE_PROXY_NAME, "other").endMetadata().build())
                .skipped() != null);
        assertTrue(
                converter.convert(svc().editMetadata().addToLabels(ServiceConverter.HEADLESS, "").endMetadata().build()).skipped() != null);
    }

    @Test
    void dualStackGivesEachFamilyItsOwnClusterIP() {
        Service s = svc().editSpec().withClusterIP("fd00::1").withClusterIPs("fd00::1", "198.19.0.9").endSpec().build();
        ServiceConverter.Result r = converter.convert(s);
        assertEquals("198.19.0.9", r.ports(IpFamily.IPv4).get(0).clusterIP());
        assertEquals("fd00::1", r.ports(IpFamily.IPv6).get(0).clusterIP());
    }

    @Test
    void serviceProxyNameSelectsLabelledServices() {
        ServiceConverter named = new ServiceConverter("kube-ferry");
        assertNull(named.convert(svc().editMetadata().addToLabels(ServiceConverter.SERVICE_PROXY_NAME, "kube-ferry").endMetadata().build())
                .skipped());
        assertTrue(named.convert(svc().editMetadata().addToLabels(ServiceConverter.SERVICE_PROXY_NAME, "other").endMetadata().build())
                .skipped() != null);
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

    private static java.util.List<String> reasons(ServiceConverter.Result r) {
        return r.problems().stream().map(p -> (p.whole() ? "skip:" : "drop:") + p.reason()).toList();
    }

    @Test
    void invalidWholeObjectFieldsSkipTheServiceWithAReason() {
        record Case(String what, Service service, String reason) {
        }
        for (Case c : java.util.List.of(
                new Case("ClusterIP 999.1.2.3", svc().editSpec().withClusterIP("999.1.2.3").withClusterIPs("999.1.2.3").endSpec().build(),
                        "invalid-cluster-ip"),
                new Case("ClusterIP with a leading zero", svc().editSpec().withClusterIP("198.19.0.01").withClusterIPs().endSpec().build(),
                        "invalid-cluster-ip"),
                new Case("clusterIPs[0] differs", svc().editSpec().withClusterIPs("198.19.0.2").endSpec().build(), "invalid-cluster-ip"),
                new Case("two IPv4 ClusterIPs", svc().editSpec().withClusterIPs("198.19.0.1", "198.19.0.2").endSpec().build(),
                        "invalid-cluster-ip"),
                new Case("an IPv4-mapped ClusterIP",
                        svc().editSpec().withClusterIP("::ffff:198.19.0.1").withClusterIPs("::ffff:198.19.0.1").endSpec().build(),
                        "invalid-cluster-ip"),
                new Case("ipFamilies says IPv6 for an IPv4 address", svc().editSpec().withIpFamilies("IPv6").endSpec().build(),
                        "invalid-ip-families"),
                new Case("ipFamilies in the wrong order",
                        svc().editSpec().withClusterIPs("198.19.0.1", "2001:db8:1::1").withIpFamilies("IPv6", "IPv4").endSpec().build(),
                        "invalid-ip-families"),
                new Case("ipFamilies shorter than clusterIPs",
                        svc().editSpec().withClusterIPs("198.19.0.1", "2001:db8:1::1").withIpFamilies("IPv4").endSpec().build(),
                        "invalid-ip-families"),
                new Case("ipFamilies garbage", svc().editSpec().withIpFamilies("IPv4", "IPv5").endSpec().build(), "invalid-ip-families"),
                new Case("namespace with a quote", svc().editMetadata().withNamespace("ns\"").endMetadata().build(), "invalid-name"),
                new Case("name with a newline", svc().editMetadata().withName("web\n-A INPUT -j DROP").endMetadata().build(),
                        "invalid-name"),
                new Case("name of 64 characters", svc().editMetadata().withName("a".repeat(64)).endMetadata().build(), "invalid-name"),
                new Case("name starting with a digit (RFC 1035)", svc().editMetadata().withName("1web").endMetadata().build(),
                        "invalid-name"),
                new Case("unknown type", svc().editSpec().withType("Magic").endSpec().build(), "invalid-service-type"),
                new Case("affinity timeout",
                        svc().editSpec().withSessionAffinity("ClientIP").withNewSessionAffinityConfig().withNewClientIP()
                                .withTimeoutSeconds(-1).endClientIP().endSessionAffinityConfig().endSpec().build(),
                        "invalid-session-affinity"),
                new Case("affinity kind", svc().editSpec().withSessionAffinity("Cookie").endSpec().build(), "invalid-session-affinity"),
                new Case("health check node port", svc().editSpec().withHealthCheckNodePort(-3).endSpec().build(), "invalid-port"),
                new Case("no ports", svc().editSpec().withPorts().endSpec().build(), "no-ports"),
                new Case("no spec", new ServiceBuilder().withNewMetadata().withName("web").withNamespace("ns").endMetadata().build(),
                        "missing-spec"))) {
            ServiceConverter.Result r = converter.convert(c.service());
            assertTrue(r.ports().isEmpty(), c.what());
            assertNull(r.ignored(), c.what() + " is an error, not a Service for someone else");
            assertEquals(java.util.List.of("skip:" + c.reason()), reasons(r), c.what());
            assertTrue(r.problems().get(0).message().chars().noneMatch(ch -> ch < 0x20), "messages are one line: " + r.problems());
        }
        ServiceConverter.Result ipv6Only = converter
                .convert(svc().editSpec().withClusterIP("fd00::1").withClusterIPs("fd00::1").endSpec().build());
        assertEquals(List.of(), ipv6Only.problems(), "IPv6 only is no longer a problem");
        assertEquals(List.of("ns/web:http"), ipv6Only.ports(IpFamily.IPv6).stream().map(p -> p.name().toString()).toList());
    }

    @Test
    void badPartsAreDroppedEachWithAReason() {
        Service s = svc().editSpec()
                .addNewPort().withName("http").withPort(81).endPort() // duplicate name
                .addNewPort().withName("Bad_Name").withPort(82).endPort()
                .addNewPort().withName("a\"b").withPort(83).endPort()
                .addNewPort().withPort(84).endPort() // unnamed among several
                .addNewPort().withName("tcp-lower").withPort(85).withProtocol("tcp").endPort()
                .addNewPort().withName("np").withPort(86).withNodePort(70000).endPort()
                .addNewPort().withName("zero").withPort(0).endPort()
                .withExternalIPs("198.19.100.1", "127.0.0.1", "fd00::5", "1.2.3.4 -j ACCEPT")
                .withLoadBalancerSourceRanges("198.18.0.0/16", "fd00::/8", "1.2.3.4/40").endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("198.19.200.1").endIngress()
                .addNewIngress().withIp("fd00::9").endIngress().addNewIngress().withIp("300.1.1.1").endIngress()
                .addNewIngress().withHostname("lb.example.com").endIngress().endLoadBalancer().endStatus().build();
        ServiceConverter.Result r = converter.convert(s);
        assertEquals(java.util.List.of("ns/web:http"), r.ports().stream().map(p -> p.name().toString()).toList());
        assertEquals(java.util.List.of("198.19.100.1"), r.ports().get(0).externalIPs());
        assertEquals(java.util.List.of("198.19.200.1"), r.ports().get(0).loadBalancerIPs());
        assertEquals(java.util.List.of("198.18.0.0/16"), r.ports().get(0).loadBalancerSourceRanges());
        assertEquals(List.of(), r.ports(IpFamily.IPv6), "the IPv6 entries belong to a family the Service has no ClusterIP of");
        // The IPv6 entries are not problems: they are the other family's, which this Service is not in.
        assertEquals(java.util.List.of("drop:invalid-external-ip", "drop:invalid-external-ip",
                "drop:invalid-load-balancer-ip", "drop:invalid-source-range",
                "drop:duplicate-port-name", "drop:invalid-port-name", "drop:invalid-port-name", "drop:invalid-port-name",
                "drop:invalid-protocol", "drop:invalid-port", "drop:invalid-port"), reasons(r));
        assertNull(r.skipped());
    }

    @Test
    void optionValuesAreOneShortPrintableLine() {
        Service s = svc().editMetadata().addToAnnotations("kube-ferry.io/scheduler", "rr\nEvil: log line")
                .addToAnnotations("kube-ferry.io/scheduler-flags", "sh-port").endMetadata().build();
        ServiceConverter.Result r = converter.convert(s);
        assertEquals(java.util.Map.of("kube-ferry.io/scheduler-flags", "sh-port"), r.ports().get(0).options());
        assertEquals(java.util.List.of("drop:invalid-annotation"), reasons(r));
    }

    @Test
    void whenEveryPortIsBadTheServiceIsSkipped() {
        Service s = svc().editSpec().editFirstPort().withProtocol("ICMP").endPort().endSpec().build();
        assertEquals(java.util.List.of("skip:no-usable-ports", "drop:invalid-protocol"), reasons(converter.convert(s)));
    }

    @Test
    void servicesForOthersAreIgnoredNotErrors() {
        for (Service s : java.util.List.of(svc().editSpec().withType("ExternalName").endSpec().build(),
                svc().editSpec().withClusterIP("None").withClusterIPs("None").endSpec().build(),
                svc().editMetadata().withName("Not Valid But Not Ours").addToLabels(ServiceConverter.SERVICE_PROXY_NAME, "other")
                        .endMetadata().build())) {
            ServiceConverter.Result r = converter.convert(s);
            assertTrue(r.ignored() != null && r.problems().isEmpty(), r.toString());
        }
    }

    /** A Service as the API server stores it for {@code families} with {@code clusterIPs} (in the same order). */
    private static Service stack(String policy, List<String> families, String... clusterIPs) {
        return svc().editSpec().withIpFamilyPolicy(policy).withIpFamilies(families).withClusterIP(clusterIPs[0]).withClusterIPs(clusterIPs)
                .endSpec().build();
    }

    private static java.util.Map<IpFamily, List<String>> clusterIPs(ServiceConverter.Result r) {
        java.util.Map<IpFamily, List<String>> out = new java.util.EnumMap<>(IpFamily.class);
        r.byFamily().forEach((family, ports) -> out.put(family, ports.stream().map(ServicePort::clusterIP).toList()));
        return out;
    }

    @Test
    void aServiceIsProgrammedInEachFamilyItHasAClusterIPOf() {
        record Case(String what, Service service, java.util.Map<IpFamily, List<String>> expected) {
        }
        for (Case c : List.of(
                new Case("IPv4 only", stack("SingleStack", List.of("IPv4"), "198.19.0.1"),
                        java.util.Map.of(IpFamily.IPv4, List.of("198.19.0.1"))),
                new Case("IPv6 only", stack("SingleStack", List.of("IPv6"), "2001:db8:1::1"),
                        java.util.Map.of(IpFamily.IPv6, List.of("2001:db8:1::1"))),
                new Case("dual-stack, IPv4 first", stack("RequireDualStack", List.of("IPv4", "IPv6"), "198.19.0.1", "2001:db8:1::1"),
                        java.util.Map.of(IpFamily.IPv4, List.of("198.19.0.1"), IpFamily.IPv6, List.of("2001:db8:1::1"))),
                new Case("dual-stack, IPv6 first", stack("PreferDualStack", List.of("IPv6", "IPv4"), "2001:db8:1::1", "198.19.0.1"),
                        java.util.Map.of(IpFamily.IPv4, List.of("198.19.0.1"), IpFamily.IPv6, List.of("2001:db8:1::1"))),
                new Case("PreferDualStack on a single-stack cluster: one IP", stack("PreferDualStack", List.of("IPv6"), "2001:db8:1::1"),
                        java.util.Map.of(IpFamily.IPv6, List.of("2001:db8:1::1"))),
                new Case("no ipFamilies (an old object or a file): the literal decides",
                        svc().editSpec().withClusterIP("2001:db8:1::1").withClusterIPs("2001:db8:1::1", "198.19.0.1").endSpec().build(),
                        java.util.Map.of(IpFamily.IPv4, List.of("198.19.0.1"), IpFamily.IPv6, List.of("2001:db8:1::1"))),
                new Case("ipFamilies past the ClusterIPs (upstream tolerates it)",
                        stack("PreferDualStack", List.of("IPv4", "IPv6"), "198.19.0.1"),
                        java.util.Map.of(IpFamily.IPv4, List.of("198.19.0.1"))),
                new Case("clusterIP only, no clusterIPs",
                        svc().editSpec().withClusterIP("2001:DB8:1:0::A").withClusterIPs().endSpec().build(),
                        java.util.Map.of(IpFamily.IPv6, List.of("2001:db8:1::a"))))) {
            ServiceConverter.Result r = converter.convert(c.service());
            assertEquals(List.of(), r.problems(), c.what());
            assertEquals(c.expected(), clusterIPs(r), c.what());
            r.byFamily().values()
                    .forEach(ports -> assertEquals(List.of("ns/web:http"), ports.stream().map(p -> p.name().toString()).toList()));
        }
    }

    @Test
    void addressesAndRangesGoToTheirOwnFamilysPortsInCanonicalForm() {
        Service s = stack("RequireDualStack", List.of("IPv6", "IPv4"), "2001:db8:1::10", "198.19.0.10").toBuilder().editSpec()
                .withType("LoadBalancer").withExternalIPs("198.19.100.1", "2001:DB8:1:0:0:0:0:100", "::1", "fe80::1", "ff02::1", "bogus")
                .withLoadBalancerSourceRanges("198.18.0.5/24", " 2001:db8:5::1/48 ", "2001:db8::/129").endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("198.19.200.1").endIngress()
                .addNewIngress().withIp("2001:db8:1::200").endIngress().addNewIngress().withIp("2001:db8:1::201").withIpMode("Proxy")
                .endIngress()
                .addNewIngress().withIp("::ffff:1.2.3.4").endIngress().endLoadBalancer().endStatus().build();
        ServiceConverter.Result r = converter.convert(s);
        ServicePort v4 = r.ports(IpFamily.IPv4).get(0);
        ServicePort v6 = r.ports(IpFamily.IPv6).get(0);
        assertEquals(List.of("198.19.100.1"), v4.externalIPs());
        assertEquals(List.of("2001:db8:1::100"), v6.externalIPs());
        assertEquals(List.of("198.19.200.1"), v4.loadBalancerIPs());
        assertEquals(List.of("2001:db8:1::200"), v6.loadBalancerIPs());
        assertEquals(List.of("198.18.0.0/24"), v4.loadBalancerSourceRanges());
        assertEquals(List.of("2001:db8:5::/48"), v6.loadBalancerSourceRanges());
        assertEquals(List.of("drop:invalid-external-ip", "drop:invalid-external-ip", "drop:invalid-external-ip", "drop:invalid-external-ip",
                "drop:invalid-load-balancer-ip", "drop:invalid-source-range"), reasons(r),
                "only garbage and special addresses: " + r.problems());
        assertTrue(r.problems().get(0).message().contains("\"::1\" dropped: may not be in the loopback range (::1/128)"),
                r.problems().get(0).message());
        assertTrue(r.problems().get(1).message().contains("link-local range (fe80::/10)"), r.problems().get(1).message());
        assertTrue(r.problems().get(2).message().contains("link-local multicast range"), r.problems().get(2).message());
    }

    @Test
    void sourceRangesOfOnlyTheOtherFamilyLeaveAFamilyUnfilteredAsUpstream() {
        // Upstream's newBaseServiceInfo keeps each proxier's own family's ranges: with none of its family, that
        // proxier does not filter the Service at all. And a /0 means "allow any", the same as none.
        Service s = stack("RequireDualStack", List.of("IPv4", "IPv6"), "198.19.0.10", "2001:db8:1::10").toBuilder().editSpec()
                .withType("LoadBalancer").withLoadBalancerSourceRanges("198.18.0.0/16").endSpec().build();
        ServiceConverter.Result r = converter.convert(s);
        assertEquals(List.of("198.18.0.0/16"), r.ports(IpFamily.IPv4).get(0).loadBalancerSourceRanges());
        assertEquals(List.of(), r.ports(IpFamily.IPv6).get(0).loadBalancerSourceRanges());
        assertEquals(List.of(), r.problems());

        Service open = s.toBuilder().editSpec().withLoadBalancerSourceRanges("198.18.0.0/16", "0.0.0.0/0", "2001:db8::/32").endSpec()
                .build();
        ServiceConverter.Result any = converter.convert(open);
        assertEquals(List.of(), any.ports(IpFamily.IPv4).get(0).loadBalancerSourceRanges(), "a /0 among them: allow any");
        assertEquals(List.of("2001:db8::/32"), any.ports(IpFamily.IPv6).get(0).loadBalancerSourceRanges());
    }

    private static String pick(java.util.Random r, List<String> values) {
        return values.get(r.nextInt(values.size()));
    }

    @Test
    void whateverTheMixEveryFamilysPortsHoldOnlyThatFamilysCanonicalAddresses() {
        List<String> ips = List.of("198.19.0.1", "198.19.0.2", "2001:db8:1::1", "2001:DB8:1:0::2", "::1", "fe80::1", "::ffff:1.2.3.4",
                "bogus", "", "010.1.1.1", "fd00::1%eth0");
        List<String> ranges = List.of("198.18.0.0/16", "198.18.0.1/24", "2001:db8::/32", "2001:DB8:5::1/48", "0.0.0.0/0", "::/0", "x/8",
                "1.2.3.4/40", " 10.0.0.0/8 ");
        java.util.Random r = new java.util.Random(14);
        int served = 0;
        for (int i = 0; i < 500; i++) {
            List<String> clusterIPs = r.nextBoolean() ? List.of(pick(r, ips)) : List.of(pick(r, ips), pick(r, ips));
            Service s = svc().editSpec().withType("LoadBalancer").withClusterIP(clusterIPs.get(0)).withClusterIPs(clusterIPs)
                    .withExternalIPs(pick(r, ips), pick(r, ips)).withLoadBalancerSourceRanges(pick(r, ranges), pick(r, ranges)).endSpec()
                    .withNewStatus().withNewLoadBalancer().addNewIngress().withIp(pick(r, ips)).endIngress().endLoadBalancer().endStatus()
                    .build();
            ServiceConverter.Result result = converter.convert(s);
            result.byFamily().forEach((family, ports) -> {
                for (ServicePort p : ports) {
                    List<String> addresses = new java.util.ArrayList<>(p.externalIPs());
                    addresses.add(p.clusterIP());
                    addresses.addAll(p.loadBalancerIPs());
                    addresses.addAll(p.loadBalancerSourceRanges());
                    for (String a : addresses) {
                        assertEquals(family, IpFamily.of(a), a + " in the " + family + " ports of " + clusterIPs);
                        String address = a.contains("/") ? a.substring(0, a.indexOf('/')) : a;
                        assertEquals(io.kubeferry.proxy.model.Cidr.canonical(address), address, "canonical");
                    }
                    assertTrue(p.loadBalancerSourceRanges().stream().noneMatch(c -> c.endsWith("/0")), "a /0 means no filter");
                }
            });
            served += result.byFamily().isEmpty() ? 0 : 1;
        }
        assertTrue(served > 100, "the mix serves many: " + served);
    }
}
