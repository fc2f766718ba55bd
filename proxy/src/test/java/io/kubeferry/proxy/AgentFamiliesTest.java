package io.kubeferry.proxy;

import ch.qos.logback.classic.Level;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.SchedulerFallbacks;
import io.kubeferry.proxy.testing.AnsweredTools;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.LogCapture;
import io.kubeferry.proxy.testing.MockApiAgent;
import io.kubeferry.proxy.testing.RecordingProvider;
import io.kubeferry.proxy.testing.RecordingProvider.Call;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's per-family contract (issue 14), against the mock API with a recording dataplane: one instance per
 * family the node runs, each sync programs IPv4 then IPv6 with that family's state, a family that cannot run is
 * logged once and skipped, and no family at all fails the start with IPv4's reason.
 */
@EnableKubernetesMockClient(crud = true)
class AgentFamiliesTest {

    static KubernetesClient client;

    private static ProxyConfig config() {
        return MockApiAgent.config().withMode("nftables");
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        MockApiAgent.await(what, condition);
    }

    private static void createService(String name, String ip) {
        client.resource(new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata().withNewSpec()
                .withClusterIP(ip).addNewPort().withName("p").withPort(80).withTargetPort(new IntOrString(8080)).endPort().endSpec()
                .build())
                .create();
    }

    /** The families of the syncs, in call order. */
    private static List<IpFamily> families(List<Call> syncs) {
        return syncs.stream().map(Call::family).toList();
    }

    @Test
    void everySyncProgramsIPv4ThenIPv6EachWithItsOwnFamilysState() throws Exception {
        RecordingProvider provider = new RecordingProvider();
        try (MockApiAgent running = MockApiAgent.start(client, config(), new FakeNetfilter(), provider)) {
            Agent agent = running.agent();
            assertEquals(List.of(IpFamily.IPv4, IpFamily.IPv6), List.copyOf(agent.families()));
            await("the first sync", () -> agent.successfulSyncs() >= 1);
            createService("web", "198.19.0.1");
            await("web programmed", () -> agent.lastState().services().size() == 1);

            List<Call> syncs = provider.syncs();
            assertEquals(0, syncs.size() % 2, "each sync programs both families: " + families(syncs));
            for (int i = 0; i < syncs.size(); i += 2) {
                assertEquals(IpFamily.IPv4, syncs.get(i).family(), "IPv4 first");
                assertEquals(IpFamily.IPv6, syncs.get(i + 1).family(), "then IPv6");
                assertEquals(syncs.get(i).request().full(), syncs.get(i + 1).request().full(), "one sync, one kind for both");
            }
            assertTrue(syncs.get(0).request().full() && syncs.get(1).request().full(), "the first sync is full in both families");
            // The skeleton: IPv6 is programmed with an empty IPv6 state, as upstream programs its ip6tables chains.
            Call lastV6 = syncs.get(syncs.size() - 1);
            assertEquals(IpFamily.IPv6, lastV6.request().state().family());
            assertTrue(lastV6.request().state().services().isEmpty());
            assertTrue(lastV6.request().changed().isEmpty(), "no IPv6 Service changed");
            assertEquals(IpFamily.IPv6, agent.lastState(IpFamily.IPv6).family());
            assertEquals(0, agent.failedSyncs());
            assertEquals(List.of(IpFamily.IPv4, IpFamily.IPv6),
                    provider.calls().stream().filter(c -> c.what().equals("checkKernel")).map(Call::family).toList(),
                    "each family's kernel checked once, before its first sync");
        }
    }

    @Test
    void anIPv6WithoutItsToolsIsSkippedWithOneWarningAndIPv4StillPrograms() throws Exception {
        RecordingProvider provider = new RecordingProvider();
        try (LogCapture log = new LogCapture(Agent.class);
                MockApiAgent running = MockApiAgent.start(client, config(), AnsweredTools.without(new FakeNetfilter(), "ip6tables-restore"),
                        provider)) {
            Agent agent = running.agent();
            createService("web", "198.19.0.1");
            await("web programmed", () -> agent.lastState().services().size() == 1);
            assertEquals(List.of(IpFamily.IPv4), List.copyOf(agent.families()));
            assertTrue(provider.syncs().stream().allMatch(c -> c.family() == IpFamily.IPv4), families(provider.syncs()).toString());
            assertFalse(provider.calls().stream().anyMatch(c -> c.family() == IpFamily.IPv6), "no IPv6 instance was even checked");
            List<String> warnings = log.lines(Level.WARN).stream().filter(l -> l.contains("not programmed")).toList();
            assertEquals(List.of("IPv6 not programmed: proxy mode nftables needs ip6tables-restore, not found"), warnings);
        }
    }

    @Test
    void anIPv6WhoseKernelCheckFailsIsSkippedWithItsReason() throws Exception {
        RecordingProvider provider = new RecordingProvider().failingKernel(IpFamily.IPv6);
        try (LogCapture log = new LogCapture(Agent.class);
                MockApiAgent running = MockApiAgent.start(client, config(), new FakeNetfilter(), provider)) {
            Agent agent = running.agent();
            await("the first sync", () -> agent.successfulSyncs() >= 1);
            assertEquals(List.of(IpFamily.IPv4), List.copyOf(agent.families()));
            assertTrue(log.lines(Level.WARN).contains("IPv6 not programmed: no IPv6 in this kernel (/proc/sys/net/ipv6 missing)"),
                    log.lines(Level.WARN).toString());
        }
    }

    @Test
    void aFailedIPv6SyncFailsTheSyncButIPv4CountsAsSyncedAndOnlyIPv6sRetryIsFull() throws Exception {
        RecordingProvider provider = new RecordingProvider();
        try (MockApiAgent running = MockApiAgent.start(client, config().withSyncPeriods(java.time.Duration.ofSeconds(1),
                java.time.Duration.ZERO), new FakeNetfilter(), provider)) {
            Agent agent = running.agent();
            await("the first sync", () -> agent.successfulSyncs() >= 1);
            int before = provider.syncs().size();
            provider.failNextSync(IpFamily.IPv6);
            createService("web", "198.19.0.1");
            await("a successful sync after the failure", () -> agent.successfulSyncs() >= 2);
            assertEquals(1, agent.failedSyncs());
            List<Call> syncs = provider.syncs().subList(before, before + 4);
            // The failed sync: IPv4 programmed web, IPv6 failed; the retry: IPv4 partial with nothing left to do.
            assertEquals(List.of(IpFamily.IPv4, IpFamily.IPv6, IpFamily.IPv4, IpFamily.IPv6), families(syncs));
            assertEquals(1, syncs.get(0).request().changed().size(), "web changed in IPv4");
            Call retryV4 = syncs.get(2);
            assertFalse(retryV4.request().full(), "IPv4 synced: its retry is partial");
            assertTrue(retryV4.request().changed().isEmpty(), "IPv4's changes were programmed: " + retryV4.request().changed());
            assertTrue(syncs.get(3).request().full(), "IPv6 failed: its retry is full");
            assertEquals(1, agent.lastState().services().size());
            await("the canary asked of both families", () -> provider.calls().stream().filter(c -> c.what().equals("kernelStateLost"))
                    .map(Call::family).distinct().count() == 2);
        }
    }

    @Test
    void aFailedFirstIPv6SyncLeavesIPv4Synced() throws Exception {
        RecordingProvider provider = new RecordingProvider();
        provider.failNextSync(IpFamily.IPv6);
        try (MockApiAgent running = MockApiAgent.start(client, config().withSyncPeriods(java.time.Duration.ofSeconds(1),
                java.time.Duration.ZERO), new FakeNetfilter(), provider)) {
            Agent agent = running.agent();
            await("a successful sync after the failure", () -> agent.successfulSyncs() >= 1);
            List<Call> syncs = provider.syncs();
            assertEquals(List.of(IpFamily.IPv4, IpFamily.IPv6, IpFamily.IPv4, IpFamily.IPv6), families(syncs.subList(0, 4)));
            assertTrue(syncs.get(0).request().full() && syncs.get(1).request().full(), "the first sync is full in both");
            assertFalse(syncs.get(2).request().full(), "IPv4's first sync went through: its retry is partial");
            assertTrue(syncs.get(3).request().full(), "IPv6 failed: its retry is full");
        }
    }

    @Test
    void aFallbackInBothFamiliesIsOneWarningEvent() throws Exception {
        ServicePortName web = new ServicePortName("default", "dual", "p", Protocol.TCP);
        RecordingProvider provider = new RecordingProvider()
                .fallingBack(Map.of(web, "scheduler \"wlc\" is not available; using \"random\""));
        try (MockApiAgent running = MockApiAgent.start(client, config().withSyncPeriods(java.time.Duration.ofSeconds(1),
                java.time.Duration.ZERO), new FakeNetfilter(), provider)) {
            Agent agent = running.agent();
            await("the Event", () -> fallbackEvents("dual") >= 1);
            // Later syncs report nothing new; a second Event would have been asked for with the first (the same sync).
            int synced = agent.successfulSyncs();
            await("two more syncs", () -> agent.successfulSyncs() >= synced + 2);
            assertEquals(1, fallbackEvents("dual"), "both families fell back: one Warning Event, not one per family");
        }
    }

    private static long fallbackEvents(String service) {
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> SchedulerFallbacks.REASON.equals(e.getReason()) && service.equals(e.getInvolvedObject().getName()))
                .count();
    }

    @Test
    void noFamilyLeftFailsTheStartWithIPv4sReason() {
        RecordingProvider provider = new RecordingProvider().failingKernel(IpFamily.IPv6);
        ExecutionException failed = assertThrows(ExecutionException.class, () -> MockApiAgent.start(client, config(),
                AnsweredTools.without(new FakeNetfilter(), "iptables-restore"), provider).close());
        assertEquals("proxy mode nftables needs iptables-restore, not found", failed.getCause().getMessage());
    }
}
