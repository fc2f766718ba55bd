package io.kubeferry.proxy.dataplane;

import java.time.Duration;
import java.util.Map;

/**
 * What a successful sync did, for metrics, logs and benchmarks.
 *
 * @param full          true when everything was rewritten
 * @param renderTime    time spent building the program
 * @param applyTime     time spent in the kernel tools
 * @param ruleCounts    rules now present per table (e.g. filter, nat), as upstream's rule-count metric
 * @param bytesWritten  size of the program sent to the tools
 */
public record SyncResult(boolean full, Duration renderTime, Duration applyTime,
        Map<String, Integer> ruleCounts, long bytesWritten) {

    public SyncResult {
        ruleCounts = Map.copyOf(ruleCounts);
    }
}
