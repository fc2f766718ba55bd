package io.kubeferry.iptables;

import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.testing.AnsweredTools;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NfacctCountersTest {

    /** nfacct 1.0.2's list output, as printed on this kernel, plus a quota object (another tool's). */
    @Test
    void parsesTheToolsListOutput() {
        String listed = """
                { pkts = 00000000000000000042, bytes = 00000000000000002520 } = ct_state_invalid_dropped_pkts;
                { pkts = 00000000000000000003, bytes = 00000000000000000180 } = localhost_nps_accepted_pkts;
                { pkts = 00000000000000000001, bytes = 00000000000000000060 quota = 00000000000000001000 } = someone_elses;
                """;
        assertEquals(Map.of("ct_state_invalid_dropped_pkts", 42L, "localhost_nps_accepted_pkts", 3L, "someone_elses", 1L),
                NfacctCounters.parse(listed));
        assertEquals(Map.of(), NfacctCounters.parse(""));
    }

    /**
     * The IPv4 and IPv6 instances share the namespace's nfacct objects and one registry: the metric is one series
     * (no ip_family, as upstream), and either instance's reading updates it, also after the other stops using nfacct.
     */
    @Test
    void bothFamiliesInstancesUpdateTheOneSeries() {
        AtomicLong dropped = new AtomicLong(5);
        ToolRunner nfacct = AnsweredTools.of(new FakeNetfilter(),
                c -> new ToolResult(0, "{ pkts = " + dropped.get() + ", bytes = 0 } = ct_state_invalid_dropped_pkts;\n"
                        + "{ pkts = 0, bytes = 0 } = localhost_nps_accepted_pkts;\n", ""));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        NfacctCounters v4 = new NfacctCounters(nfacct, registry);
        NfacctCounters v6 = new NfacctCounters(nfacct, registry);
        v4.ensure();
        v6.ensure();
        String name = "kubeproxy.iptables.ct.state.invalid.dropped.packets";
        assertEquals(1, registry.find(name).functionCounters().size());
        assertEquals(5, registry.get(name).functionCounter().count());

        v4.disable("test: the IPv4 instance's restore rejected the nfacct match");
        dropped.set(9);
        v6.refresh();
        assertEquals(9, registry.get(name).functionCounter().count(), "the IPv6 instance's reading is shown");
    }
}
