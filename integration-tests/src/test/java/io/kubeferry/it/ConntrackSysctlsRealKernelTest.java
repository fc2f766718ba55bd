package io.kubeferry.it;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.conntrack.ConntrackSysctls;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The conntrack settings on a real kernel, in a namespace of the test's own: the per-namespace timeouts are
 * written there, nf_conntrack_max (read-only outside the root namespace) is skipped with a reason, the
 * host-wide hashsize is not touched, and the root namespace's values are unchanged.
 */
class ConntrackSysctlsRealKernelTest {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    private static String host(String key) throws IOException, InterruptedException {
        NetnsTestBed.Result r = NetnsTestBed.run(List.of("sysctl", "-n", key));
        return r.output().strip();
    }

    @Test
    void timeoutsAreSetInTheNamespaceAndTheReadOnlyLimitIsSkipped() throws Exception {
        String ns = BED.bareNamespace("ct");
        // conntrack's sysctls exist only once nf_conntrack is loaded (any NAT rule loads it; no modprobe here).
        org.junit.jupiter.api.Assumptions.assumeTrue(
                NetnsTestBed.run(List.of("ip", "netns", "exec", ns, "sysctl", "-n", "net.netfilter.nf_conntrack_max")).exit() == 0,
                "nf_conntrack is not loaded on this kernel");
        String hostMax = host("net.netfilter.nf_conntrack_max");
        String hostEstablished = host("net.netfilter.nf_conntrack_tcp_timeout_established");
        long above = Long.parseLong(hostMax) + 4096;

        ProxyConfig.Conntrack settings = new ProxyConfig.Conntrack(1, (int) above, Duration.ofHours(2), Duration.ofMinutes(30),
                true, Duration.ofSeconds(31), Duration.ofSeconds(121));
        ConntrackSysctls.Outcome outcome = ConntrackSysctls.forNode(new ProcessToolRunner(ns), ns).apply(settings);

        assertEquals("7200", BED.exec(ns, "sysctl", "-n", "net.netfilter.nf_conntrack_tcp_timeout_established").strip());
        assertEquals("1800", BED.exec(ns, "sysctl", "-n", "net.netfilter.nf_conntrack_tcp_timeout_close_wait").strip());
        assertEquals("1", BED.exec(ns, "sysctl", "-n", "net.netfilter.nf_conntrack_tcp_be_liberal").strip());
        assertEquals("31", BED.exec(ns, "sysctl", "-n", "net.netfilter.nf_conntrack_udp_timeout").strip());
        assertEquals("121", BED.exec(ns, "sysctl", "-n", "net.netfilter.nf_conntrack_udp_timeout_stream").strip());
        assertEquals(5, outcome.written().size(), outcome.toString());
        assertEquals(2, outcome.skipped().size(), outcome.toString());
        assertTrue(outcome.skipped().get(0).startsWith("net.netfilter.nf_conntrack_max=" + above + ": "), outcome.toString());
        assertEquals("hashsize: another network namespace", outcome.skipped().get(1));

        assertEquals(hostMax, host("net.netfilter.nf_conntrack_max"), "the root namespace's limit is untouched");
        assertEquals(hostEstablished, host("net.netfilter.nf_conntrack_tcp_timeout_established"), "and its timeouts");
    }
}
