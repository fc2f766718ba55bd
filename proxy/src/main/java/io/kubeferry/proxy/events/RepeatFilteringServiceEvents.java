package io.kubeferry.proxy.events;

import io.kubeferry.proxy.dataplane.ServiceEvents;
import io.kubeferry.proxy.model.ServicePortName;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Drops a warning identical (same Service port, reason and message) to one passed on within a window. The agent
 * hands one to every family's dataplane: each instance keeps its own {@code SchedulerFallbacks}, so a dual-stack
 * Service that falls back in both families would otherwise get two identical Warning Events per transition. One
 * shared filter in the core fixes that for every backend without the backends knowing of each other. The window is
 * upstream's event aggregation interval (client-go's EventCorrelator folds identical events within 10 minutes into
 * one Event's count): long enough to span both families' syncs even when one takes minutes at 10,000 Services.
 */
public final class RepeatFilteringServiceEvents implements ServiceEvents {

    /** client-go's defaultAggregateIntervalInSeconds. */
    static final Duration WINDOW = Duration.ofMinutes(10);

    private record Key(ServicePortName service, String reason, String message) {
    }

    private final ServiceEvents delegate;
    private final LongSupplier nanos;
    private final Map<Key, Long> sent = new HashMap<>();

    public RepeatFilteringServiceEvents(ServiceEvents delegate) {
        this(delegate, System::nanoTime);
    }

    RepeatFilteringServiceEvents(ServiceEvents delegate, LongSupplier nanos) {
        this.delegate = delegate;
        this.nanos = nanos;
    }

    @Override
    public void warning(ServicePortName service, String reason, String message) {
        long now = nanos.getAsLong();
        synchronized (sent) {
            // Forget what is out of the window, so the map holds at most one window's distinct warnings.
            sent.values().removeIf(at -> now - at >= WINDOW.toNanos());
            if (sent.putIfAbsent(new Key(service, reason, message), now) != null) {
                return;
            }
        }
        delegate.warning(service, reason, message);
    }
}
