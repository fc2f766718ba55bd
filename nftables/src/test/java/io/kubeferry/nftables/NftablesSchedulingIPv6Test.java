package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.Fixtures;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static io.kubeferry.nftables.NftablesSchedulingTest.route;
import static io.kubeferry.nftables.NftablesSchedulingTest.service;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.CLIENTS;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.assertEven;
import static io.kubeferry.proxy.testing.trace.SchedulingProperties.counts;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * kube-ferry's schedulers in an IPv6 table: the same dispatch as IPv4's with {@code ip6 saddr} (the hash over the
 * address's 16 bytes, as the kernel's nft_jhash: NftablesIPv6RealKernelTest checks the model against this kernel).
 */
class NftablesSchedulingIPv6Test {

    static final String VIP = "2001:db8:1::10";

    static List<Endpoint> endpoints(int n) {
        List<Endpoint> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Fixtures.endpoint("2001:db8::" + Integer.toHexString(0x10 + i), 8080));
        }
        return out;
    }

    /** {@code count} distinct IPv6 clients outside the pod CIDR, drawn from {@code seed}. */
    static List<String> clients(long seed, int count) {
        Random r = new Random(seed);
        Set<String> out = new java.util.LinkedHashSet<>();
        while (out.size() < count) {
            out.add(String.format("2001:db8:70:%x:%x:%x:%x:%x", r.nextInt(0x10000), r.nextInt(0x10000), r.nextInt(0x10000),
                    r.nextInt(0x10000), 1 + r.nextInt(0xffff)));
        }
        return List.copyOf(out);
    }

    private static NftablesTracer synced(String scheduler, List<Endpoint> eps) throws Exception {
        FakeNft nft = new FakeNft();
        FakeNftTools tools = new FakeNftTools(nft, List.of("::1/128", "2001:db8:2::1/64"));
        NftablesDataplane dp = new NftablesDataplane(
                new DataplaneContext(ProxyConfig.defaults().withMode("nftables"), tools, new SimpleMeterRegistry())
                        .withFamily(IpFamily.IPv6),
                () -> 1_000_000_000_000L);
        dp.sync(SyncRequest.full(NftablesRendererIPv6Test.ipv6(service("web", VIP, scheduler, eps))));
        return new NftablesTracer(nft, NftFamily.IPV6, Set.of("2001:db8:2::1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "rr", "source-hash", "maglev"})
    void tenThousandIPv6ClientsSpreadWithinFivePercentOfEven(String scheduler) throws Exception {
        NftablesTracer tracer = synced(scheduler, endpoints(4)).sampling(new Random(7));
        assertEven("nftables IPv6 " + scheduler, counts(route(tracer, clients(42, CLIENTS), VIP)), 4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"source-hash", "maglev"})
    void anIPv6ClientKeepsItsEndpointAndTheHashLeavesOnePath(String scheduler) throws Exception {
        NftablesTracer exact = synced(scheduler, endpoints(5));
        List<String> cs = clients(5, 500);
        assertEquals(route(exact, cs, VIP), route(exact.sampling(new Random(3)), cs, VIP));
    }

    /** The rule text of each algorithm in table ip6 (golden file, the twin of schedulers.txt; maglev with M = 7). */
    @Test
    void theRulesEachAlgorithmWritesForIPv6() throws Exception {
        NftablesScheduling d = NftablesScheduling.defaults();
        NftablesRenderer renderer = new NftablesRenderer(new NftNames(1000), new NftablesScheduling(d.catalog(), d.algorithms(), 7),
                NftFamily.IPV6);
        List<Endpoint> eps = endpoints(3);
        ResolvedService[] services = {service("rr", "2001:db8:1::20", "rr", eps), service("sh", "2001:db8:1::21", "source-hash", eps),
                service("mgl", "2001:db8:1::22", "maglev", eps)};
        NftablesRendererTest.golden(renderer, "schedulers-ipv6", NftablesRendererIPv6Test.ipv6(services),
                NftablesRendererIPv6Test.SETTINGS);
    }
}
