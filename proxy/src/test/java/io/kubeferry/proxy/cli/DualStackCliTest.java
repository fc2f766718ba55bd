package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.testing.AnsweredTools;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.RecordingProvider;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** cleanup and render over both IP families (issue 14), with a recording dual-stack mode. */
class DualStackCliTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int cleanup(List<DataplaneProvider> providers, io.kubeferry.proxy.exec.ToolRunner tools, Path netnsDir) {
        // The start-up check runs `true` to see that tools run at all: answered here, the rest goes to the runner.
        io.kubeferry.proxy.exec.ToolRunner checked = AnsweredTools.of(tools, command -> command.tool().equals("true")
                ? new io.kubeferry.proxy.exec.ToolResult(0, "", "")
                : tools.runAllowingFailure(command));
        return CleanupCommand.cleanup(providers, ProxyConfig.defaults(), null, new CleanupChecks(() -> OptionalInt.of(0), netnsDir),
                checked,
                new PrintWriter(out), new PrintWriter(err));
    }

    @Test
    void cleanupRemovesBothFamiliesStateOfEveryModeIPv4First(@TempDir Path netnsDir) {
        RecordingProvider provider = new RecordingProvider();
        assertEquals(0, cleanup(List.of(provider), new FakeNetfilter(), netnsDir), err.toString());
        assertEquals("nftables mode: removed 3 chains\nnftables mode (IPv6): removed 2 chains\n", out.toString());
        assertEquals("", err.toString());
        assertEquals(List.of(IpFamily.IPv4, IpFamily.IPv6), provider.calls().stream().map(RecordingProvider.Call::family).toList());
    }

    @Test
    void anIPv6WithoutItsToolsIsNamedAndSkippedAndTheCleanupStillSucceeds(@TempDir Path netnsDir) {
        RecordingProvider provider = new RecordingProvider();
        int code = cleanup(List.of(provider), AnsweredTools.without(new FakeNetfilter(), "ip6tables-restore"), netnsDir);
        // An IPv4-only node: its cleanup must succeed (exit 0), and nothing here can have programmed IPv6 anyway.
        assertEquals(0, code);
        assertEquals("nftables mode: removed 3 chains\n", out.toString());
        assertEquals("kube-ferry: cleanup of nftables mode: IPv6 skipped: proxy mode nftables needs ip6tables-restore, not found\n",
                err.toString());
        assertEquals(List.of(IpFamily.IPv4), provider.calls().stream().map(RecordingProvider.Call::family).toList());
    }

    @Test
    void aModeThatProgramsOnlyIPv4IsCleanedInIPv4AndSaysSo(@TempDir Path netnsDir) {
        RecordingProvider recording = new RecordingProvider();
        DataplaneProvider ipv4Only = new DataplaneProvider() {

            @Override
            public String mode() {
                return "nftables";
            }

            @Override
            public Dataplane create(DataplaneContext context) {
                return recording.create(context);
            }
        };
        assertEquals(0, cleanup(List.of(ipv4Only), new FakeNetfilter(), netnsDir));
        assertEquals("nftables mode: removed 3 chains\n", out.toString());
        assertEquals("kube-ferry: cleanup of nftables mode: IPv6 not cleaned: this build's nftables mode does not program IPv6\n",
                err.toString());
    }

    private static Map<IpFamily, Dataplane> dataplanes(DataplaneProvider provider, IpFamily... families) {
        Map<IpFamily, Dataplane> out = new EnumMap<>(IpFamily.class);
        DataplaneContext context = new DataplaneContext(ProxyConfig.defaults(), new FakeNetfilter(), new SimpleMeterRegistry());
        for (IpFamily f : families) {
            out.put(f, provider.create(context.withFamily(f)));
        }
        return out;
    }

    private static Map<IpFamily, ProxyState> emptyStates() {
        Map<IpFamily, ProxyState> states = new EnumMap<>(IpFamily.class);
        for (IpFamily f : IpFamily.values()) {
            states.put(f, ProxyState.empty(NodeInfo.named("node-a"), f));
        }
        return states;
    }

    @Test
    void renderOfIPv4AloneIsTheTextOfBeforeDualStack() {
        String text = RenderCommand.render("iptables", dataplanes(new RecordingProvider(), IpFamily.IPv4), emptyStates());
        assertEquals(RenderHeader.forMode("iptables") + "# IPv4 program of 0 Service ports\n", text);
    }

    @Test
    void renderOfBothFamiliesPrintsIPv4ThenIPv6EachAfterALineNamingItsFamilyAndTool() {
        String text = RenderCommand.render("iptables", dataplanes(new RecordingProvider(), IpFamily.IPv4, IpFamily.IPv6), emptyStates());
        assertEquals(RenderHeader.forMode("iptables")
                + "# ==== IPv4 (iptables-restore): this family's program, up to the next ==== line or the end.\n"
                + "# IPv4 program of 0 Service ports\n"
                + "# ==== IPv6 (ip6tables-restore): this family's program, up to the next ==== line or the end.\n"
                + "# IPv6 program of 0 Service ports\n", text);
        String v6 = RenderCommand.render("nftables", dataplanes(new RecordingProvider(), IpFamily.IPv6), emptyStates());
        assertEquals(RenderHeader.forMode("nftables")
                + "# ==== IPv6 (nft -f -, table ip6 kube-proxy): this family's program, up to the next ==== line or the end.\n"
                + "# IPv6 program of 0 Service ports\n", v6, "IPv6 alone is named too");
    }

    @Test
    void ipFamilyTakesIPv4IPv6OrBoth() throws Exception {
        assertNull(RenderCommand.asked(null), "the default: IPv4, and IPv6 when it has Services");
        assertEquals(EnumSet.of(IpFamily.IPv4), RenderCommand.asked("IPv4"));
        assertEquals(EnumSet.of(IpFamily.IPv6), RenderCommand.asked("IPv6"));
        assertEquals(EnumSet.allOf(IpFamily.class), RenderCommand.asked("both"));
        ConfigException bad = assertThrows(ConfigException.class, () -> RenderCommand.asked("ipv6"));
        assertEquals("--ip-family: must be IPv4, IPv6 or both, got \"ipv6\"", bad.getMessage());
    }

    @Test
    void nodeIPsReplaceOnlyTheirOwnFamilysAddresses() {
        ProxyState v4 = ProxyState.empty(NodeInfo.named("node-a").withAddresses(List.of("198.18.1.1")), IpFamily.IPv4);
        ProxyState v6 = ProxyState.empty(NodeInfo.named("node-a").withAddresses(List.of("2001:db8:2::1")), IpFamily.IPv6);
        List<String> given = List.of("198.18.5.5");
        assertEquals(List.of("198.18.5.5"), RenderCommand.withNodeIPs(v4, given).node().addresses());
        assertEquals(List.of("2001:db8:2::1"), RenderCommand.withNodeIPs(v6, given).node().addresses(), "no IPv6 given: the Node's");
        assertEquals(List.of("2001:db8:2::9"), RenderCommand.withNodeIPs(v6, List.of("198.18.5.5", "2001:db8:2::9")).node().addresses());
        assertEquals(List.of("2001:db8:2::9"), RenderCommand.withNodeIPs(v6, List.of("2001:DB8:2:0:0::9")).node().addresses(),
                "canonical, as the state stage carries the Node's");
    }
}
