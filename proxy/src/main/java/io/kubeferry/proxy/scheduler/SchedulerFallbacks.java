package io.kubeferry.proxy.scheduler;

import io.kubeferry.proxy.dataplane.ServiceEvents;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.Map;

/**
 * Turns scheduler fallbacks into Warning Events (and log lines, through {@link ServiceEvents}), each once: a
 * fallback is reported again only after it went away and came back, not on every sync. One per dataplane.
 */
public final class SchedulerFallbacks {

    public static final String REASON = "SchedulerFallback";

    private final ServiceEvents events;
    private Map<ServicePortName, String> reported = Map.of();

    public SchedulerFallbacks(ServiceEvents events) {
        this.events = events;
    }

    /** @param fallbacks every Service port that fell back after a successful sync, with the reason */
    public void report(Map<ServicePortName, String> fallbacks) {
        fallbacks.forEach((service, message) -> {
            if (!message.equals(reported.get(service))) {
                events.warning(service, REASON, message);
            }
        });
        reported = Map.copyOf(fallbacks);
    }
}
