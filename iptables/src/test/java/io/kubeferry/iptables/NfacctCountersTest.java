package io.kubeferry.iptables;

import org.junit.jupiter.api.Test;

import java.util.Map;

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
}
