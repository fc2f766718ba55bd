package io.kubeferry.proxy.state;

/**
 * Where {@link ClusterState} sends a warning about a Service it skipped (or partly dropped), once per change:
 * in {@code run} mode a Warning Event on the Service. Kept this small so the state stage needs no API client.
 */
@FunctionalInterface
public interface ObjectWarnings {

    /** Nothing beyond the log line (render, tests). */
    ObjectWarnings NONE = (namespace, service, reason, message) -> {
    };

    /**
     * @param namespace the Service's namespace
     * @param service   the Service's name (valid: only Services that can exist in the API are named)
     * @param reason    a CamelCase Event reason
     * @param message   what was skipped and why
     */
    void warning(String namespace, String service, String reason, String message);
}
