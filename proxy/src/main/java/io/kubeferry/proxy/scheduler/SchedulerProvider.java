package io.kubeferry.proxy.scheduler;

import java.util.Set;

/** What one dataplane can schedule with on this node; each backend offers its own algorithms. */
public interface SchedulerProvider {

    /** Algorithm names usable now (already filtered by what the running kernel has). */
    Set<String> available();

    /** Flags the dataplane understands for an algorithm (empty when it takes none). */
    Set<String> flagsFor(String scheduler);

    /**
     * Why this mode can never offer a name it does not list, when there is more to say than that it is missing
     * (e.g. IPVS mode has no random scheduler); "" when nothing. Goes into the fallback's log line and Event.
     */
    default String whyUnavailable(String name) {
        return "";
    }
}
