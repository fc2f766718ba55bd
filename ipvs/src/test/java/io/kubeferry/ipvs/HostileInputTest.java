package io.kubeferry.ipvs;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.ServiceEvents;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.state.ObjectValidation;
import io.kubeferry.proxy.state.StaticState;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.RealRestore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property test, whole path: Services and EndpointSlices with hostile names, ports, protocols and addresses
 * (seeded, a few hundred per run) mixed with good ones go through the converters and the state into both
 * renderers. Every program must be accepted whole — by the real iptables-nft-restore and
 * iptables-legacy-restore ({@code --test}, in a network namespace the test makes) and by the fakes'
 * parsers for the IPVS tools — and every good Service must still be programmed.
 */
class HostileInputTest {

    private static final List<String> HOSTILE = List.of("", "\"", "a\"b", "web\n-A INPUT -j DROP", "x\r\ny", ";", "a;reboot", "é", "名前",
            "\u0000", "a b", "'", "\\", "#", "$(id)", "-j ACCEPT", "x".repeat(300), "COMMIT", "*filter", "A", "-a", "a-", "a.b", "\t",
            "a".repeat(64), "1abc");
    private static final List<String> GARBAGE_IPS = List.of("999.1.2.3", "1.2.3", "01.2.3.4", "1.2.3.4 -j ACCEPT", "1.2.3.4\n", "", "::1",
            "fd00::1", "0.0.0.0", "127.0.0.1", "169.254.0.1", "198.19.0.1/32", "a.b.c.d", "١.٢.٣.٤", "256.0.0.1", " 198.19.9.9",
            "198.19.9.9\"", "1.2.3.4,5.6.7.8", "-1.2.3.4");
    private static final List<String> PROTOCOLS = java.util.Arrays.asList("TCP", "UDP", "SCTP", "tcp", "ICMP", null, "TCP\n", "");
    private static final List<Integer> PORTS = java.util.Arrays.asList(-1, 0, 80, 65535, 65536, null, 443, Integer.MAX_VALUE);
    private static final int GOOD = 40;

    private static <T> T pick(Random r, List<T> from) {
        return from.get(r.nextInt(from.size()));
    }

    private static String name(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> pick(r, HOSTILE);
            case 1 -> "h" + r.nextInt(1000) + pick(r, HOSTILE);
            case 2 -> pick(r, HOSTILE) + pick(r, HOSTILE);
            default -> "h" + r.nextInt(1000); // valid, so the other fields get exercised
        };
    }

    private static String ip(Random r) {
        return r.nextInt(3) == 0 ? "198.19." + (100 + r.nextInt(100)) + "." + (1 + r.nextInt(250)) : pick(r, GARBAGE_IPS);
    }

    private static Service hostileService(Random r) {
        ServiceBuilder b = new ServiceBuilder().withNewMetadata().withName(name(r)).withNamespace(r.nextBoolean() ? "bad" : name(r))
                .addToAnnotations("kube-ferry.io/scheduler", pick(r, List.of("rr", "sh", "x\ny", "rr -j", "\""))).endMetadata();
        String clusterIP = ip(r);
        var spec = b.withNewSpec().withClusterIP(clusterIP)
                .withType(pick(r, java.util.Arrays.asList("ClusterIP", "NodePort", "LoadBalancer", null, "x\"")));
        int ports = 1 + r.nextInt(3);
        for (int i = 0; i < ports; i++) {
            spec.addToPorts(new ServicePortBuilder().withName(r.nextBoolean() ? "p" + i : name(r)).withPort(pick(r, PORTS))
                    .withProtocol(pick(r, PROTOCOLS))
                    .withNodePort(pick(r, java.util.Arrays.asList(0, null, 30000 + r.nextInt(2000), -5, 70000)))
                    .withTargetPort(new IntOrString(8080)).build());
        }
        for (int i = r.nextInt(3); i > 0; i--) {
            spec.addToExternalIPs(ip(r));
        }
        for (int i = r.nextInt(2); i > 0; i--) {
            spec.addToLoadBalancerSourceRanges(
                    pick(r, List.of("198.18.0.0/16", "1.2.3.4/40", "x/8", "fd00::/8", "1.2.3.4/8\n-j DROP", " 10.0.0.0/8 ")));
        }
        if (r.nextInt(4) == 0) {
            spec.withSessionAffinity("ClientIP").withNewSessionAffinityConfig().withNewClientIP()
                    .withTimeoutSeconds(pick(r, List.of(-1, 0, 10, 86401))).endClientIP().endSessionAffinityConfig();
        }
        if (r.nextInt(4) == 0) {
            spec.withExternalTrafficPolicy("Local").withHealthCheckNodePort(pick(r, List.of(-1, 32000, 70000)));
        }
        Service s = spec.endSpec().withNewStatus().withNewLoadBalancer().addNewIngress().withIp(ip(r)).endIngress().endLoadBalancer()
                .endStatus().build();
        return s;
    }

    private static EndpointSlice hostileSlice(Random r, Service owner) {
        EndpointSliceBuilder b = new EndpointSliceBuilder().withNewMetadata().withName(r.nextBoolean() ? "s" + r.nextInt(100000) : name(r))
                .withNamespace(owner.getMetadata().getNamespace())
                .addToLabels("kubernetes.io/service-name", r.nextInt(4) == 0 ? name(r) : owner.getMetadata().getName()).endMetadata()
                .withAddressType(pick(r, List.of("IPv4", "IPv4", "IPv4", "IPv6", "FQDN", "ipv4", "\"")));
        for (int i = 0; i < 2; i++) {
            b.addNewPort().withName(r.nextBoolean() ? "p" + i : name(r)).withPort(pick(r, PORTS)).withProtocol(pick(r, PROTOCOLS))
                    .endPort();
        }
        for (int i = 1 + r.nextInt(3); i > 0; i--) {
            b.addNewEndpoint().withAddresses(r.nextBoolean() ? "198.18.2." + (1 + r.nextInt(250)) : pick(r, GARBAGE_IPS))
                    .withNodeName(pick(r, List.of("node-a", "node-b", "x\ny"))).withZone(name(r)).endEndpoint();
        }
        return b.build();
    }

    private static List<HasMetadata> goodObjects() {
        List<HasMetadata> good = new ArrayList<>();
        for (int i = 0; i < GOOD; i++) {
            String name = "good-" + i;
            good.add(new ServiceBuilder().withNewMetadata().withName(name).withNamespace("good").endMetadata()
                    .withNewSpec().withType("NodePort").withClusterIP("198.19.1." + (1 + i)).addNewPort().withName("p").withPort(80)
                    .withNodePort(30000 + i).withTargetPort(new IntOrString(8080)).endPort().endSpec().build());
            good.add(new EndpointSliceBuilder().withNewMetadata().withName(name + "-x").withNamespace("good")
                    .addToLabels("kubernetes.io/service-name", name).endMetadata().withAddressType("IPv4")
                    .addNewPort().withName("p").withPort(8080).withProtocol("TCP").endPort()
                    .addNewEndpoint().withAddresses("198.18.0." + (2 + i)).withNodeName("node-b").endEndpoint().build());
        }
        return good;
    }

    private static Dataplane dataplane(String mode, io.kubeferry.proxy.exec.ToolRunner tools) {
        ProxyConfig config = ProxyConfig.defaults().withHostnameOverride("node-a").withMode(mode)
                .withClusterCIDRs(List.of("198.18.0.0/16"));
        return DataplaneProvider.forMode(mode)
                .create(new DataplaneContext(config, tools, new SimpleMeterRegistry(), ServiceEvents.LOG_ONLY));
    }

    @Test
    void hostileObjectsNeverBreakTheProgramAndGoodOnesAreAllProgrammed() throws Exception {
        List<String> restorePrograms = new ArrayList<>();
        List<String> ipsetPrograms = new ArrayList<>();
        int hostileObjects = 0;
        for (long seed = 1; seed <= 3; seed++) {
            Random r = new Random(seed);
            List<HasMetadata> objects = new ArrayList<>(goodObjects());
            for (int i = 0; i < 80; i++) {
                Service s = hostileService(r);
                objects.add(s);
                objects.add(hostileSlice(r, s));
                hostileObjects += 2;
            }
            java.util.Collections.shuffle(objects, r);
            StaticState.Result built = StaticState.build(objects, "node-a", "");
            ProxyState state = built.state();
            assertFalse(built.skipped().isEmpty(), "the generator makes bad objects");
            for (ServicePortName name : state.services().keySet()) {
                assertTrue(ObjectValidation.dns1123Label(name.namespace()).isEmpty() && ObjectValidation.dns1035Label(name.name()).isEmpty()
                        && (name.port().isEmpty() || ObjectValidation.dns1123Label(name.port()).isEmpty()),
                        "only valid names reach the state: " + name);
            }
            for (int i = 0; i < GOOD; i++) {
                ServicePortName good = new ServicePortName("good", "good-" + i, "p", io.kubeferry.proxy.model.Protocol.TCP);
                assertEquals(1, state.services().get(good).allEndpoints().size(), good + " is programmed with its endpoint");
            }

            // iptables mode: the text render prints, then the same through the fake kernel.
            String iptables = dataplane("iptables", new FakeNetfilter()).render(SyncRequest.full(state));
            for (int i = 0; i < GOOD; i++) {
                assertTrue(iptables.contains("-d 198.19.1." + (1 + i) + " --dport 80 -j KUBE-SVC-"),
                        "good-" + i + " in the iptables program");
            }
            restorePrograms.add(iptables);
            FakeNetfilter netfilter = new FakeNetfilter();
            netfilter.setAddresses(List.of("127.0.0.1/8", "198.18.1.1/24"));
            dataplane("iptables", netfilter).sync(SyncRequest.full(state));

            // IPVS mode: every tool's input parsed by the fake kernel, the iptables part by the real tools too.
            FakeIpvsKernel ipvs = new FakeIpvsKernel();
            dataplane("ipvs", ipvs).sync(SyncRequest.full(state));
            for (int i = 0; i < GOOD; i++) {
                assertTrue(ipvs.services.containsKey("-t 198.19.1." + (1 + i) + ":80"), "good-" + i + " has its virtual server");
                assertTrue(ipvs.services.containsKey("-t 198.18.1.1:" + (30000 + i)), "good-" + i + " has its NodePort virtual server");
            }
            String ipvsRender = dataplane("ipvs", new FakeIpvsKernel()).render(SyncRequest.full(state));
            String marker = "# iptables-restore --noflush --counters\n";
            assertTrue(ipvsRender.contains(marker), "the IPVS render names its iptables section");
            restorePrograms.add(ipvsRender.substring(ipvsRender.indexOf(marker)));
            String ipsets = ipvsRender.substring(0, ipvsRender.indexOf("# ip -batch"));
            assertTrue(ipsets.startsWith("# ipset restore -exist\n"), ipsets);
            ipsetPrograms.add(ipsets);
        }
        assertTrue(hostileObjects >= 400, "a few hundred cases: " + hostileObjects);

        String why = RealRestore.unavailable();
        if (why != null) {
            System.out.println("HostileInputTest: real iptables-restore --test skipped: " + why);
            return;
        }
        try (RealRestore restore = RealRestore.open("kf-hostile-ipvs")) {
            // The real ipset accepts every set section (and makes the sets the IPVS rules match on).
            for (String program : ipsetPrograms) {
                assertNull(restore.rejection(List.of("ipset", "restore", "-exist"), program));
            }
            for (String program : restorePrograms) {
                for (String tool : RealRestore.TOOLS) {
                    assertNull(restore.rejection(tool, program));
                }
            }
        }
    }
}
