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
}
