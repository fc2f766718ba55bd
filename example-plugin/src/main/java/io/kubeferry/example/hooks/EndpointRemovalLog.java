package io.kubeferry.example.hooks;

import io.kubeferry.proxy.conntrack.ConntrackChange;
import io.kubeferry.proxy.conntrack.ConntrackChanges.ServiceEndpoint;
import io.kubeferry.proxy.conntrack.ConntrackHook;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * An example conntrack hook: one log line per endpoint that left its Service port, saying whether it was terminating
 * (draining) or simply vanished, and a counter of them. A real plugin would export the same events (to an audit
 * log, a message bus) or act on the node's connection state the way the built-in hooks do.
 */
public final class EndpointRemovalLog implements ConntrackHook {

    /**
     * Under {@code io.kubeferry}, whose level the agent sets (INFO, more with {@code --v}); the agent logs any other
     * logger at WARN and above only.
     */
    private static final Logger LOG = LoggerFactory.getLogger(EndpointRemovalLog.class);

    private final Counter removals;

    public EndpointRemovalLog(MeterRegistry metrics) {
        this.removals = Counter.builder("kubeferry.example.endpoint.removals")
                .description("Endpoints that left their Service port, as seen by the example plugin").register(metrics);
    }

    @Override
    public String name() {
        return "example-removals";
    }

    @Override
    public void afterSync(ConntrackChange change) {
        for (String line : lines(change)) {
            LOG.info(line);
        }
        removals.increment(change.changes().removedEndpoints().size());
    }

    /** The lines one change gives, e.g. {@code endpoint removed: default/web:http tcp 198.18.0.12:8080 (was ready)}. */
    static List<String> lines(ConntrackChange change) {
        List<String> lines = new ArrayList<>();
        for (ServiceEndpoint r : change.changes().removedEndpoints()) {
            String was = r.terminating() ? "was terminating" : r.endpoint().ready() ? "was ready" : "was not ready";
            lines.add("endpoint removed: " + r.service().name() + " " + r.service().protocol().lower() + " " + r.endpoint().hostPort()
                    + " (" + was + ")");
        }
        return lines;
    }
}
