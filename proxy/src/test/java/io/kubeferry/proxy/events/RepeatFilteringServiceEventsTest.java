package io.kubeferry.proxy.events;

import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePortName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RepeatFilteringServiceEventsTest {

    private static final ServicePortName WEB = new ServicePortName("default", "web", "p", Protocol.TCP);

    @Test
    void anIdenticalWarningWithinTheWindowIsDroppedAndAnyOtherPasses() {
        List<String> sent = new ArrayList<>();
        AtomicLong now = new AtomicLong();
        RepeatFilteringServiceEvents events = new RepeatFilteringServiceEvents((s, r, m) -> sent.add(s.name() + " " + r + " " + m),
                now::get);
        events.warning(WEB, "SchedulerFallback", "a");
        events.warning(WEB, "SchedulerFallback", "a");
        events.warning(WEB, "SchedulerFallback", "b");
        events.warning(WEB, "Other", "a");
        now.addAndGet(RepeatFilteringServiceEvents.WINDOW.toNanos());
        events.warning(WEB, "SchedulerFallback", "a");
        assertEquals(List.of("web SchedulerFallback a", "web SchedulerFallback b", "web Other a", "web SchedulerFallback a"), sent);
    }
}
