package io.kubeferry.proxy.scheduler;

import java.util.Optional;

/**
 * The scheduler picked for one Service port. {@code fallbackReason} is present when the Service asked for
 * something this node cannot give; the core logs it and emits it as a Kubernetes Event, so it is a value
 * and not a log line here.
 */
public record SchedulerChoice(Scheduler scheduler, Optional<String> fallbackReason) {

    public boolean fellBack() {
        return fallbackReason.isPresent();
    }
}
