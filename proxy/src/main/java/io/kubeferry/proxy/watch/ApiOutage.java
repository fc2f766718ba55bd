package io.kubeferry.proxy.watch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * Whether the informers can reach the API server, turned into two log lines per outage: one WARN when it
 * starts (the error and the retry backoff) and one INFO when every informer watches again and, if connections
 * were failing, the API server has answered since. Each retry in between goes to DEBUG, stack trace included.
 * Used on one Vert.x context only.
 */
final class ApiOutage {

    private static final Logger LOG = LoggerFactory.getLogger(ApiOutage.class);

    private final Duration grace;
    private boolean down;
    private long downSince;
    private int failures;
    private long notWatchingSince = -1;
    /** A connection failed and the API server has not answered since: informers that "watch" may not. */
    private boolean unanswered;

    ApiOutage(Duration grace) {
        this.grace = grace;
    }

    /** A list or watch of {@code kind} failed; the informer retries after Fabric8's backoff. */
    void failed(String kind, Throwable error, String backoff, long nowNanos) {
        failures++;
        if (!down) {
            down = true;
            downSince = nowNanos;
            LOG.warn("API server unreachable: {} list/watch failed: {}; informers keep retrying ({}), the kernel keeps the last rules",
                    kind, describe(error), backoff);
        } else {
            LOG.debug("{} list/watch failed again: {}", kind, describe(error));
        }
        LOG.debug("{} list/watch failure", kind, error);
    }

    /**
     * A connection to the API server failed: a watch that Fabric8 re-opens by itself (the informer keeps
     * reporting that it watches) or any other request. The outage lasts until {@link #answered()}.
     */
    void connectionFailed(String kind, Throwable error, String backoff, long nowNanos) {
        unanswered = true;
        failed(kind, error, backoff, nowNanos);
    }

    /** The API server answered a request. */
    void answered() {
        unanswered = false;
    }

    /** The informers not watching now (after the initial lists): empty means the API server is back. */
    void watching(List<String> notWatching, long nowNanos) {
        if (notWatching.isEmpty()) {
            notWatchingSince = -1;
            if (down && !unanswered) {
                LOG.info("API server reachable again after {} s ({} failed attempts): every informer is watching",
                        Duration.ofNanos(nowNanos - downSince).toSeconds(), failures);
                down = false;
                failures = 0;
            }
            return;
        }
        if (down) {
            return;
        }
        // A watch that drops and comes back within the grace period is routine (the API server closes
        // watches now and then); one that stays gone is an outage even before a list fails.
        if (notWatchingSince < 0) {
            notWatchingSince = nowNanos;
        } else if (nowNanos - notWatchingSince >= grace.toNanos()) {
            down = true;
            downSince = notWatchingSince;
            LOG.warn("API server unreachable: {} not watching for {} s; informers keep retrying, the kernel keeps the last rules",
                    String.join(", ", notWatching), Duration.ofNanos(nowNanos - notWatchingSince).toSeconds());
        }
    }

    boolean down() {
        return down;
    }

    /** The error without its async wrappers, short: "ConnectException: Connection refused: /127.0.0.1:1". */
    static String describe(Throwable error) {
        Throwable root = error;
        while ((root instanceof java.util.concurrent.CompletionException || root instanceof java.util.concurrent.ExecutionException)
                && root.getCause() != null) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message.replace('\n', ' '));
    }
}
