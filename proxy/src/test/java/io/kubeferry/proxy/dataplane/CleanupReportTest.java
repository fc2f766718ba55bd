package io.kubeferry.proxy.dataplane;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CleanupReportTest {

    @Test
    void saysWhatWasRemovedInTheOrderCountedAndNothingElse() {
        CleanupReport report = CleanupReport.of("ipvs").plus(CleanupReport.CHAINS, 3).plus(CleanupReport.VIRTUAL_SERVERS, 0)
                .plus(CleanupReport.RULES, 1).plus(CleanupReport.CHAINS, 2).plus(CleanupReport.ADDRESSES, 1);
        assertEquals("ipvs mode: removed 5 chains, 1 rule, 1 address", report.summary());
        assertEquals(Map.of("chains", 5, "rules", 1, "addresses", 1), report.removed());
        assertEquals(0, report.count(CleanupReport.VIRTUAL_SERVERS), "zero counts are not listed");
        assertTrue(report.ok());
    }

    @Test
    void nothingRemovedSaysSoAndFailuresAreNamed() {
        assertEquals("iptables mode: nothing to remove", CleanupReport.of("iptables").summary());
        CleanupReport failed = CleanupReport.of("ipvs").failed("ipset list -n exited 1: Operation not permitted");
        assertFalse(failed.ok());
        assertEquals("ipvs mode: removed nothing; failed: ipset list -n exited 1: Operation not permitted", failed.summary());
        assertEquals("ipvs mode: removed nothing", failed.removals());
        CleanupReport both = CleanupReport.of("ipvs").plus(CleanupReport.IPSETS, 17).plus(failed);
        assertEquals("ipvs mode: removed 17 ipsets; failed: ipset list -n exited 1: Operation not permitted", both.summary());
    }

    @Test
    void isImmutable() {
        CleanupReport report = CleanupReport.of("ipvs");
        CleanupReport more = report.plus(CleanupReport.CHAINS, 1).failed("x");
        assertTrue(report.removed().isEmpty() && report.failures().isEmpty(), "the original is unchanged");
        assertThrows(UnsupportedOperationException.class, () -> more.removed().put("rules", 1));
        assertThrows(UnsupportedOperationException.class, () -> more.failures().add("y"));
        assertThrows(IllegalArgumentException.class, () -> new CleanupReport("ipvs", Map.of("rules", -1), List.of()));
    }
}
