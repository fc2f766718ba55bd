package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ServiceConntrackCountsTest {

    private final FakeNetfilter kernel = new FakeNetfilter();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

    private static String flow(String proto, String dst, int dport, String replySrc) {
        return proto + " 6 100 ESTABLISHED src=198.18.1.2 dst=" + dst + " sport=40000 dport=" + dport + " src=" + replySrc
                + " dst=198.18.1.2 sport=8080 dport=40000 mark=0 use=1";
    }

    private Map<String, Double> gauges() {
        Map<String, Double> byService = new TreeMap<>();
        for (Gauge g : metrics.find("kubeferry.conntrack.service.entries").gauges()) {
            byService.put(g.getId().getTag("service"), g.value());
        }
        return byService;
    }

    @Test
    void countsPerServiceByAddressAndNodePort() throws Exception {
        ProxyState s = state(port("ns", "web", "", Protocol.TCP, "198.19.0.10", 80).nodePort(30080).externalIP("198.19.100.10")
                .resolve(endpoint("198.18.0.11", 8080)),
                port("ns", "web", "alt", Protocol.TCP, "198.19.0.10", 81).resolve(endpoint("198.18.0.11", 8081)),
                port("kube-system", "dns", "", Protocol.UDP, "198.19.0.53", 53).resolve(endpoint("198.18.0.12", 53)));
        kernel.addConntrack(flow("tcp", "198.19.0.10", 80, "198.18.0.11"));
        kernel.addConntrack(flow("tcp", "198.19.0.10", 81, "198.18.0.11")); // another port of the same Service
        kernel.addConntrack(flow("tcp", "198.19.100.10", 80, "198.18.0.11"));
        kernel.addConntrack(flow("tcp", "198.18.1.1", 30080, "198.18.0.11")); // NodePort, DNATed
        kernel.addConntrack(flow("tcp", "198.18.1.1", 30080, "198.18.1.1")); // the same port, not DNATed: not the Service's
        kernel.addConntrack(flow("udp", "198.19.0.53", 53, "198.18.0.12"));
        kernel.addConntrack(flow("tcp", "198.19.0.53", 53, "198.18.0.12")); // TCP to a UDP-only Service: none
        kernel.addConntrack(flow("udp", "198.18.1.1", 30080, "198.18.0.12")); // UDP to a TCP NodePort's number: none
        ServiceConntrackCounts counts = new ServiceConntrackCounts(kernel, Duration.ZERO, metrics);

        counts.count(s);

        assertEquals(Map.of("ns/web", 4.0, "kube-system/dns", 1.0), gauges());
        assertEquals(8.0, metrics.get("kubeferry.conntrack.entries").gauge().value());
    }

    @Test
    void theTopServicesAreKeptAndTheRestSummedSoTheLabelsStayBounded() throws Exception {
        List<ResolvedService> services = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String ip = "198.19.1." + i;
            services.add(port("ns", String.format("svc-%02d", i), "", Protocol.TCP, ip, 80).resolve(endpoint("198.18.0.11", 8080)));
            for (int f = 0; f <= i; f++) {
                kernel.addConntrack(flow("tcp", ip, 80, "198.18.0.11"));
            }
        }
        ServiceConntrackCounts counts = new ServiceConntrackCounts(kernel, Duration.ZERO, metrics);
        counts.count(state(services.toArray(ResolvedService[]::new)));
        Map<String, Double> g = gauges();
        assertEquals(ServiceConntrackCounts.TOP + 1, g.size());
        assertEquals(30.0, g.get("ns/svc-29"));
        assertEquals(11.0, g.get("ns/svc-10"));
        // svc-00 .. svc-09 hold 1 + 2 + ... + 10 entries.
        assertEquals(55.0, g.get(ServiceConntrackCounts.OTHER));

        // A later count with fewer Services drops the rows that are gone.
        counts.count(state(services.get(0)));
        assertEquals(Map.of("ns/svc-00", 1.0), gauges());
    }
}
