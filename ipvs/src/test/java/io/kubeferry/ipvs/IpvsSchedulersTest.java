package io.kubeferry.ipvs;

import io.kubeferry.proxy.scheduler.Scheduler;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpvsSchedulersTest {

    private final SchedulerCatalog catalog = new SchedulerCatalog(
            new IpvsSchedulers(n -> !n.equals("twos")), new Scheduler("rr", Set.of()));

    @Test
    void honoursAvailableSchedulerAndFlags() {
        var c = catalog.choose(Map.of("kube-ferry.io/scheduler", "sh", "kube-ferry.io/scheduler-flags", "sh-port,sh-fallback"));
        assertEquals(new Scheduler("sh", Set.of("sh-port", "sh-fallback")), c.scheduler());
        assertTrue(c.fallbackReason().isEmpty());
    }

    @Test
    void fallsBackWithReasonWhenKernelLacksIt() {
        var c = catalog.choose(Map.of("kube-ferry.io/scheduler", "twos"));
        assertEquals("rr", c.scheduler().name());
        assertTrue(c.fellBack());
    }

    @Test
    void fallsBackOnFlagForOtherScheduler() {
        var c = catalog.choose(Map.of("kube-ferry.io/scheduler", "rr", "kube-ferry.io/scheduler-flags", "sh-port"));
        assertTrue(c.fellBack());
    }

    @Test
    void noAnnotationMeansDefault() {
        assertEquals(new Scheduler("rr", Set.of()), catalog.choose(Map.of()).scheduler());
    }

    @Test
    void modeNeutralNamesAreTheKernelsHashingSchedulersWithTheirFlags() {
        var c = catalog.choose(Map.of("kube-ferry.io/scheduler", "maglev", "kube-ferry.io/scheduler-flags", "mh-port"));
        assertEquals(new Scheduler("maglev", Set.of("mh-port")), c.scheduler());
        assertEquals("mh", IpvsSchedulers.kernelName(c.scheduler().name()));
        assertEquals("sh", IpvsSchedulers.kernelName("source-hash"));
        assertEquals("wlc", IpvsSchedulers.kernelName("wlc"));
        assertTrue(catalog.choose(Map.of("kube-ferry.io/scheduler", "source-hash", "kube-ferry.io/scheduler-flags", "mh-port")).fellBack(),
                "source-hash takes sh's flags, not mh's");
    }

    @Test
    void aModeNeutralNameIsOfferedOnlyWhenTheKernelHasItsScheduler() {
        Set<String> offered = new IpvsSchedulers(n -> n.equals("rr") || n.equals("sh")).available();
        assertEquals(Set.of("rr", "sh", "source-hash"), offered);
    }

    @Test
    void randomFallsBackSayingNoIpvsSchedulerIsRandom() {
        var c = catalog.choose(Map.of("kube-ferry.io/scheduler", "random"));
        assertEquals("rr", c.scheduler().name());
        assertEquals("scheduler \"random\" is not available on this node (no IPVS scheduler picks at random); using \"rr\"",
                c.fallbackReason().orElseThrow());
    }
}
