package io.kubeferry.nftables;

import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;

import static io.kubeferry.nftables.NftablesRendererTest.F;
import static io.kubeferry.nftables.NftablesRendererTest.SETTINGS;
import static io.kubeferry.nftables.NftablesRendererTest.T;
import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Partial syncs on {@link FakeNft}: they end where one full sync of the final state ends, and write only what changed. */
class NftablesPartialTest {

    private static final long SECOND = 1_000_000_000L;

    private final NftablesRenderer renderer = new NftablesRenderer(new NftNames(1000));
    private final FakeNft nft = new FakeNft();
    private NftMemory memory;
    private ProxyState applied;
    private long now = 100 * SECOND;

    /** Syncs {@code state} partially (full when nothing was applied yet), applying to the fake; returns the sync. */
    private NftSync sync(ProxyState state, long advance) {
        now += advance;
        Set<ServicePortName> changed = new HashSet<>();
        if (applied != null) {
            for (ServicePortName name : union(state, applied)) {
                if (!Objects.equals(state.services().get(name), applied.services().get(name))) {
                    changed.add(name);
                }
            }
        }
        NftSync sync = renderer.render(state, SETTINGS, changed, memory == null, memory, null, now);
        if (!sync.cleanup().isEmpty()) {
            nft.apply(sync.cleanup());
        }
        nft.apply(sync.main());
        memory = sync.next();
        applied = state;
        return sync;
    }

    private static Set<ServicePortName> union(ProxyState a, ProxyState b) {
        Set<ServicePortName> all = new HashSet<>(a.services().keySet());
        all.addAll(b.services().keySet());
        return all;
    }

    private String fullTable(ProxyState state) {
        FakeNft fresh = new FakeNft();
        fresh.apply(renderer.render(state, SETTINGS, Set.of(), true, null, null, 0).main());
        return NftGolden.canonical(fresh.dump(F, T));
    }

    private static ResolvedService web(String... ips) {
        var b = port("ns1", "web", "http", Protocol.TCP, "172.30.0.41", 80).nodePort(30080);
        return b.resolve(java.util.Arrays.stream(ips).map(ip -> endpoint(ip, 8080)).toArray(io.kubeferry.proxy.model.Endpoint[]::new));
    }

    private static ResolvedService lb(boolean withLocal, boolean anyEndpoints) {
        var b = port("ns2", "lb", "", Protocol.TCP, "172.30.0.42", 443).nodePort(30443).loadBalancerIP("1.2.3.4")
                .sourceRange("203.0.113.0/25").externalLocal(31000);
        if (!anyEndpoints) {
            return b.resolve();
        }
        return withLocal
                ? b.resolve(endpoint("10.180.0.2", 443), localEndpoint("10.180.0.3", 443))
                : b.resolve(endpoint("10.180.0.2", 443));
    }

    private static ResolvedService sticky(int seconds, String... ips) {
        var b = port("ns3", "sticky", "p", Protocol.UDP, "172.30.0.43", 53).sticky(seconds);
        return b.resolve(java.util.Arrays.stream(ips).map(ip -> endpoint(ip, 53)).toArray(io.kubeferry.proxy.model.Endpoint[]::new));
    }

    @Test
    void unchangedServicesWriteNothing() {
        ProxyState state = Fixtures.state(web("10.180.0.1"), lb(true, true), sticky(60, "10.180.0.5"));
        sync(state, 0);
        NftSync again = sync(state, SECOND);
        assertTrue(again.main().isEmpty(), again.main().render());
        assertTrue(again.cleanup().isEmpty());
    }

    @Test
    void oneChangedServiceWritesOnlyItsOwn() {
        sync(Fixtures.state(web("10.180.0.1"), lb(true, true), sticky(60, "10.180.0.5")), 0);
        NftSync partial = sync(Fixtures.state(web("10.180.0.1", "10.180.0.9"), lb(true, true), sticky(60, "10.180.0.5")), SECOND);
        String text = partial.main().render();
        assertTrue(text.contains("ns1/web/tcp/http__10.180.0.9/8080"), text);
        assertFalse(text.contains("ns2/lb") || text.contains("ns3/sticky") || text.contains("filter-input"), text);
    }

    @Test
    void changedVerdictIsDeletedThenAdded() {
        sync(Fixtures.state(lb(false, true)), 0);
        // No local endpoint: drop; no endpoint at all: reject. Same key, other verdict.
        NftSync partial = sync(Fixtures.state(lb(false, false)), SECOND);
        String text = partial.main().render();
        String delete = "delete element ip kube-proxy no-endpoint-services { 1.2.3.4 . tcp . 443 }\n";
        String add = "add element ip kube-proxy no-endpoint-services { 1.2.3.4 . tcp . 443 comment \"ns2/lb\" : goto reject-chain }\n";
        assertTrue(text.contains(delete + add), text);
        assertEquals("goto reject-chain", nft.elements(F, T, "no-endpoint-services").get("1.2.3.4 . tcp . 443"));
    }

    @Test
    void staleChainsAreFlushedAtOnceAndDeletedASecondLater() {
        sync(Fixtures.state(web("10.180.0.1", "10.180.0.2")), 0);
        String gone = "endpoint-" + NftNames.hashAndTruncate("ns1/web/tcp/http__10.180.0.2/8080");
        NftSync first = sync(Fixtures.state(web("10.180.0.1")), SECOND);
        assertTrue(first.main().render().contains("flush chain ip kube-proxy " + gone + "\n"));
        assertEquals(List.of(), nft.rules(F, T, gone));
        NftSync soon = sync(Fixtures.state(web("10.180.0.1")), SECOND / 2);
        assertTrue(soon.cleanup().isEmpty(), "deleted too soon: " + soon.cleanup());
        assertTrue(soon.main().isEmpty(), "flushed again: " + soon.main());
        NftSync later = sync(Fixtures.state(web("10.180.0.1")), SECOND / 2);
        assertEquals("delete chain ip kube-proxy " + gone + "\n", later.cleanup().render());
        assertFalse(nft.chains(F, T).contains(gone));
    }

    @Test
    void affinitySetsGoWithTheirEndpoints() {
        sync(Fixtures.state(sticky(60, "10.180.0.5", "10.180.0.6")), 0);
        sync(Fixtures.state(sticky(60, "10.180.0.5")), SECOND);
        assertEquals(Set.of("affinity-" + NftNames.hashAndTruncate("ns3/sticky/udp/p__10.180.0.5/53")),
                Set.copyOf(nft.containers(F, T).stream().filter(NftNames::isAffinitySet).toList()));
        sync(Fixtures.state(sticky(30, "10.180.0.5")), SECOND);
        assertEquals(30, nft.container(F, T, "affinity-" + NftNames.hashAndTruncate("ns3/sticky/udp/p__10.180.0.5/53")).timeoutSeconds());
        sync(Fixtures.state(sticky(0, "10.180.0.5")), SECOND);
        assertTrue(nft.containers(F, T).stream().noneMatch(NftNames::isAffinitySet));
    }

    @Test
    void sequencesOfPartialSyncsEndWhereOneFullSyncEnds() {
        List<List<ResolvedService>> pool = List.of(
                List.of(web("10.180.0.1"), web("10.180.0.1", "10.180.0.2"), web(), web("10.180.0.3", "10.180.0.2")),
                List.of(lb(true, true), lb(false, true), lb(false, false)),
                List.of(sticky(60, "10.180.0.5"), sticky(60, "10.180.0.5", "10.180.0.6"), sticky(0, "10.180.0.6"), sticky(30, "10.180.0.6"),
                        sticky(30)),
                List.of(port("ns4", "ext", "", Protocol.SCTP, "172.30.0.44", 9).externalIP("192.168.99.4")
                        .resolve(endpoint("10.180.0.7", 9)),
                        port("ns4", "ext", "", Protocol.SCTP, "172.30.0.44", 9).externalIP("192.168.99.5").internalLocal()
                                .resolve(localEndpoint("10.180.0.7", 9))),
                // Two ports of one Service share its ClusterIP (one cluster-ips element for both).
                List.of(port("ns5", "multi", "a", Protocol.TCP, "172.30.0.45", 80).resolve(endpoint("10.180.0.8", 80)),
                        port("ns5", "multi", "a", Protocol.TCP, "172.30.0.45", 80).resolve()),
                List.of(port("ns5", "multi", "b", Protocol.UDP, "172.30.0.45", 53).resolve(endpoint("10.180.0.8", 53)),
                        port("ns5", "multi", "b", Protocol.UDP, "172.30.0.45", 53).nodePort(30053).resolve(endpoint("10.180.0.9", 53))),
                // Another Service claims ns4/ext's external IP and port: the first in order keeps it.
                List.of(port("ns3", "dup", "", Protocol.SCTP, "172.30.0.46", 9).externalIP("192.168.99.4")
                        .resolve(endpoint("10.180.0.10", 9)),
                        port("ns3", "dup", "", Protocol.SCTP, "172.30.0.46", 9).externalIP("192.168.99.4").resolve()));
        for (long seed = 1; seed <= 60; seed++) {
            Random random = new Random(seed);
            FakeNftReset();
            ProxyState state = null;
            for (int step = 0; step < 12; step++) {
                List<ResolvedService> services = new ArrayList<>();
                for (List<ResolvedService> variants : pool) {
                    int pick = random.nextInt(variants.size() + 1);
                    if (pick < variants.size()) {
                        services.add(variants.get(pick));
                    }
                }
                state = Fixtures.state(services.toArray(ResolvedService[]::new));
                sync(state, random.nextBoolean() ? SECOND / 3 : 2 * SECOND);
            }
            // One more sync, later, with nothing changed: it deletes the chains the last ones left flushed.
            sync(state, 2 * SECOND);
            assertEquals(fullTable(state), NftGolden.canonical(nft.dump(F, T)), "seed " + seed);
        }
    }

    private void FakeNftReset() {
        nft.apply(new NftTransaction(F, T).destroy(new NftObject.Table(null)));
        memory = null;
        applied = null;
    }
}
