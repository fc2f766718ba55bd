package io.kubeferry.nftables;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

import static io.kubeferry.nftables.NftablesRendererTest.F;
import static io.kubeferry.nftables.NftablesRendererTest.SETTINGS;
import static io.kubeferry.nftables.NftablesRendererTest.T;
import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Upstream's TestSyncProxyRulesRepeated (k/k v1.35.4 pkg/proxy/nftables/proxier_test.go), step by step: the same
 * changes, the table after each sync equal to upstream's expected dump (src/test/resources/upstream/repeated-NN.txt)
 * and the sync transaction as many operations as upstream counts.
 */
class UpstreamRepeatedSyncTest {

    private static final long AGED = 2_000_000_000L;

    private final NftablesRenderer renderer = new NftablesRenderer(new NftNames(100));
    private final FakeNft nft = new FakeNft();
    private final Map<ServicePortName, ResolvedService> services = new TreeMap<>();
    private NftMemory memory;
    private ProxyState applied;
    private long now = 1_000_000_000_000L;
    private NftSync last;

    private static ResolvedService svc(String ns, String name, String portName, String ip, int port, String... endpoints) {
        return port(ns, name, portName, Protocol.TCP, ip, port)
                .resolve(java.util.Arrays.stream(endpoints).map(e -> endpoint(e, port)).toArray(Endpoint[]::new));
    }

    private void put(ResolvedService s) {
        services.put(s.name(), s);
    }

    private void sync(long advance) {
        now += advance + 1;
        ProxyState state = Fixtures.state(services.values().toArray(ResolvedService[]::new));
        Set<ServicePortName> changed = new HashSet<>();
        if (applied != null) {
            Set<ServicePortName> all = new HashSet<>(state.services().keySet());
            all.addAll(applied.services().keySet());
            for (ServicePortName n : all) {
                if (!Objects.equals(state.services().get(n), applied.services().get(n))) {
                    changed.add(n);
                }
            }
        }
        last = renderer.render(state, SETTINGS, changed, memory == null, memory, null, now);
        if (!last.cleanup().isEmpty()) {
            nft.apply(last.cleanup());
        }
        nft.apply(last.main());
        memory = last.next();
        applied = state;
    }

    private void expect(int step, int operations) throws IOException {
        String expected = Files.readString(Path.of(String.format("src/test/resources/upstream/repeated-%02d.txt", step)));
        assertEquals(NftGolden.canonical(NftGolden.upstreamWithCascade(expected)), NftGolden.canonical(nft.dump(F, T)), "step " + step);
        if (operations >= 0) {
            assertEquals(operations, last.main().size(), "operations of step " + step + ":\n" + last.main().render());
        }
    }

    @Test
    void sameTablesAndOperationCountsAsUpstream() throws IOException {
        put(svc("ns1", "svc1", "p80", "172.30.0.41", 80, "10.0.1.1"));
        put(svc("ns2", "svc2", "p8080", "172.30.0.42", 8080, "10.0.2.1"));
        sync(0);
        expect(1, -1);

        put(svc("ns3", "svc3", "p80", "172.30.0.43", 80, "10.0.3.1"));
        sync(0);
        expect(2, 10);

        // Delete a service; its chains will be flushed, but not immediately deleted.
        services.remove(Fixtures.name("ns2", "svc2", "p8080", Protocol.TCP));
        sync(0);
        expect(3, 4);

        // Time passes: the stale chains go, in their own transaction.
        sync(AGED);
        expect(4, 0);
        assertEquals(2, last.cleanup().size());

        put(svc("ns4", "svc4", "p80", "172.30.0.44", 80));
        sync(0);
        expect(5, 2);

        put(svc("ns4", "svc4", "p80", "172.30.0.44", 80, "10.0.4.1"));
        sync(0);
        expect(6, 10);

        put(svc("ns3", "svc3", "p80", "172.30.0.43", 80, "10.0.3.2"));
        sync(0);
        expect(7, 9);

        put(svc("ns3", "svc3", "p80", "172.30.0.43", 80, "10.0.3.2", "10.0.3.3"));
        sync(AGED);
        // Upstream's 12 plus one: svc3 now has two endpoints, and the cascade (ServiceDispatch) writes a rule per
        // endpoint where upstream writes one vmap rule.
        expect(8, 12 + 1);

        put(svc("ns3", "svc3", "p80", "172.30.0.43", 80));
        sync(0);
        expect(9, 5);
        assertEquals(Set.of("service-4AT6LBPK-ns3/svc3/tcp/p80", "endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80",
                "endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80"), memory.staleChains().keySet());

        // Restored at once: the chains are written again and are no longer stale.
        put(svc("ns3", "svc3", "p80", "172.30.0.43", 80, "10.0.3.2", "10.0.3.3"));
        sync(0);
        expect(10, 14 + 1); // the cascade's second rule for svc3's two endpoints, as in step 8
        assertEquals(Set.of(), memory.staleChains().keySet());

        // Emptied, then restored after the stale chains aged: the same table as before.
        put(svc("ns3", "svc3", "p80", "172.30.0.43", 80));
        sync(0);
        put(svc("ns3", "svc3", "p80", "172.30.0.43", 80, "10.0.3.2", "10.0.3.3"));
        sync(AGED);
        expect(10, -1);
        sync(0);
        expect(10, 0);
    }
}
