package io.kubeferry.proxy.health;

import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.function.LongSupplier;

/**
 * Upstream's proxier health: unhealthy when a queued sync has waited longer than the health timeout
 * (2 x syncPeriod) without a successful sync; /healthz also fails while the Node is being deleted.
 */
public final class ProxyHealth {

    private final Duration timeout;
    private final LongSupplier queuedSince;
    private volatile Instant lastUpdated = Instant.now();
    private volatile boolean nodeEligible = true;

    /** @param queuedSince wall-clock millis of the oldest unserved sync request, 0 when none */
    public ProxyHealth(Duration timeout, LongSupplier queuedSince) {
        this.timeout = timeout;
        this.queuedSince = queuedSince;
    }

    public void updated() {
        lastUpdated = Instant.now();
    }

    public void nodeEligible(boolean eligible) {
        nodeEligible = eligible;
    }

    public boolean proxyHealthy(Instant now) {
        long queued = queuedSince.getAsLong();
        return queued == 0 || now.toEpochMilli() - queued <= timeout.toMillis();
    }

    /** The /healthz answer: status code and upstream's JSON body. */
    public Answer healthz(Instant now) {
        boolean ok = proxyHealthy(now) && nodeEligible;
        return new Answer(ok ? 200 : 503, body(now, true));
    }

    /** The /livez answer: like /healthz but a Node being deleted does not make the agent dead. */
    public Answer livez(Instant now) {
        return new Answer(proxyHealthy(now) ? 200 : 503, body(now, false));
    }

    /** Upstream's body: lastUpdated and currentTime (RFC 3339), plus nodeEligible on /healthz. */
    private String body(Instant now, boolean withEligibility) {
        JsonObject body = new JsonObject().put("lastUpdated", lastUpdated.toString()).put("currentTime", now.toString());
        if (withEligibility) {
            body.put("nodeEligible", nodeEligible);
        }
        return body.encode();
    }

    public record Answer(int status, String body) {
    }
}
