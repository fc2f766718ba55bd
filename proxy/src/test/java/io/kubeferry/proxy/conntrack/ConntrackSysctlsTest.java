package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConntrackSysctlsTest {

    /** sysctl as the kernel answers it: some keys read-only (a non-root network namespace), some absent. */
    private static final class Sysctl implements ToolRunner {

        final Map<String, String> values = new HashMap<>();
        final Set<String> readOnly;
        final List<String> writes = new ArrayList<>();
        /** Keys the kernel refuses while sysctl still exits 0, as procps does outside the root namespace. */
        final Set<String> silentlyRefused = new java.util.HashSet<>();

        Sysctl(Map<String, String> initial, Set<String> readOnly) {
            values.putAll(initial);
            this.readOnly = readOnly;
        }

        @Override
        public ToolResult run(ToolCommand command) {
            return runAllowingFailure(command);
        }

        @Override
        public ToolResult runAllowingFailure(ToolCommand command) {
            List<String> args = command.args();
            if (args.get(0).equals("-n")) {
                String v = values.get(args.get(1));
                return v == null
                        ? new ToolResult(255, "", "sysctl: cannot stat /proc/sys/" + args.get(1))
                        : new ToolResult(0, v + "\n", "");
            }
            String[] kv = args.get(1).split("=", 2);
            if (readOnly.contains(kv[0])) {
                return new ToolResult(255, "", "sysctl: permission denied on key \"" + kv[0] + "\"");
            }
            if (silentlyRefused.contains(kv[0])) {
                return new ToolResult(0, "", "sysctl: setting key \"" + kv[0] + "\": Invalid argument");
            }
            writes.add(args.get(1));
            values.put(kv[0], kv[1]);
            return new ToolResult(0, args.get(1) + "\n", "");
        }
    }

    private static final ProxyConfig.Conntrack DEFAULTS = ProxyConfig.defaults().conntrack();
    private static final String MAX = "net.netfilter.nf_conntrack_max";

    @Test
    void thePlanIsKubeProxysMaxOfPerCoreAndMinThenTheTimeouts() {
        assertEquals(List.of(new ConntrackSysctls.Setting(MAX, 131072, true),
                new ConntrackSysctls.Setting("net.netfilter.nf_conntrack_tcp_timeout_established", 86400, false),
                new ConntrackSysctls.Setting("net.netfilter.nf_conntrack_tcp_timeout_close_wait", 3600, false)),
                ConntrackSysctls.plan(DEFAULTS, 2), "2 x 32768 is below min 131072");
        assertEquals(32768L * 8, ConntrackSysctls.plan(DEFAULTS, 8).get(0).value(), "8 x 32768 is above min");
        ProxyConfig.Conntrack all = new ProxyConfig.Conntrack(1000, 10, Duration.ofHours(2), Duration.ofMinutes(30), true,
                Duration.ofSeconds(30), Duration.ofMinutes(2));
        assertEquals(List.of(MAX + "=2000", "net.netfilter.nf_conntrack_tcp_timeout_established=7200",
                "net.netfilter.nf_conntrack_tcp_timeout_close_wait=1800", "net.netfilter.nf_conntrack_tcp_be_liberal=1",
                "net.netfilter.nf_conntrack_udp_timeout=30", "net.netfilter.nf_conntrack_udp_timeout_stream=120"),
                ConntrackSysctls.plan(all, 2).stream().map(s -> s.key() + "=" + s.value()).toList());
    }

    @Test
    void zeroAndFalseLeaveEverythingAlone(@TempDir Path dir) throws Exception {
        Path hashsize = Files.writeString(dir.resolve("hashsize"), "1024\n");
        Sysctl sysctl = new Sysctl(Map.of(MAX, "65536"), Set.of());
        ProxyConfig.Conntrack none = new ProxyConfig.Conntrack(0, 131072, Duration.ZERO, Duration.ZERO, false, Duration.ZERO,
                Duration.ZERO);
        assertEquals(List.of(), ConntrackSysctls.plan(none, 4));
        ConntrackSysctls.Outcome outcome = new ConntrackSysctls(sysctl, hashsize, 4).apply(none);
        assertEquals(List.of(), sysctl.writes);
        assertEquals(List.of(), outcome.written());
        assertEquals("1024\n", Files.readString(hashsize), "hashsize untouched when the limit is left alone");
    }

    @Test
    void theLimitAndHashsizeAreOnlyRaisedAndTimeoutsSetWhenTheyDiffer(@TempDir Path dir) throws Exception {
        Path hashsize = Files.writeString(dir.resolve("hashsize"), "16384\n");
        Sysctl sysctl = new Sysctl(Map.of(MAX, "65536", "net.netfilter.nf_conntrack_tcp_timeout_established", "432000",
                "net.netfilter.nf_conntrack_tcp_timeout_close_wait", "3600"), Set.of());
        ConntrackSysctls.Outcome outcome = new ConntrackSysctls(sysctl, hashsize, 2).apply(DEFAULTS);
        assertEquals(List.of(MAX + "=131072", "net.netfilter.nf_conntrack_tcp_timeout_established=86400"), sysctl.writes,
                "close_wait is already 3600");
        assertEquals("32768", Files.readString(hashsize), "hashsize raised to max/4");
        assertEquals(3, outcome.written().size(), outcome.toString());

        Sysctl bigger = new Sysctl(Map.of(MAX, "1000000", "net.netfilter.nf_conntrack_tcp_timeout_established", "86400",
                "net.netfilter.nf_conntrack_tcp_timeout_close_wait", "3600"), Set.of());
        Files.writeString(hashsize, "262144");
        new ConntrackSysctls(bigger, hashsize, 2).apply(DEFAULTS);
        assertEquals(List.of(), bigger.writes, "a larger limit is kept, as upstream");
        assertEquals("262144", Files.readString(hashsize));
    }

    @Test
    void aSysctlThatIsNotWritableIsSkippedAndTheRestStillApplied(@TempDir Path dir) throws Exception {
        Path hashsize = dir.resolve("no-such-dir").resolve("hashsize");
        Sysctl sysctl = new Sysctl(Map.of(MAX, "65536"), Set.of(MAX));
        ConntrackSysctls.Outcome outcome = new ConntrackSysctls(sysctl, hashsize, 2).apply(DEFAULTS);
        assertEquals(List.of("net.netfilter.nf_conntrack_tcp_timeout_established=86400",
                "net.netfilter.nf_conntrack_tcp_timeout_close_wait=3600"), sysctl.writes);
        assertEquals(2, outcome.skipped().size(), outcome.toString());
        assertTrue(outcome.skipped().get(0).startsWith(MAX + "=131072: sysctl exited 255: sysctl: permission denied"), outcome.toString());
        assertTrue(outcome.skipped().get(1).contains("hashsize: unreadable"), outcome.toString());
    }

    @Test
    void aWriteTheKernelRefusedIsSkippedEvenWhenSysctlExitsZero() {
        Sysctl sysctl = new Sysctl(Map.of(MAX, "65536"), Set.of());
        sysctl.silentlyRefused.add(MAX);
        ConntrackSysctls.Outcome outcome = new ConntrackSysctls(sysctl, null, 2).apply(DEFAULTS);
        assertEquals(MAX + "=131072: the kernel kept 65536 (sysctl: setting key \"" + MAX + "\": Invalid argument)",
                outcome.skipped().get(0));
        assertTrue(outcome.written().stream().noneMatch(w -> w.startsWith(MAX)), outcome.toString());
    }

    @Test
    void hashsizeIsLeftAloneWhenProgrammingAnotherNamespace() {
        Sysctl sysctl = new Sysctl(Map.of(MAX, "65536"), Set.of());
        ConntrackSysctls.Outcome outcome = new ConntrackSysctls(sysctl, null, 2).apply(DEFAULTS);
        assertEquals(List.of("hashsize: another network namespace"), outcome.skipped());
    }

    @Test
    void theNodesCpusAreCounted() {
        assertTrue(ConntrackSysctls.onlineCpus() >= 1);
    }
}
