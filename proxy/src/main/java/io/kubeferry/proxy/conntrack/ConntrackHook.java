package io.kubeferry.proxy.conntrack;

/**
 * Called after every successful sync with what changed, so connection-tracking state can follow the
 * rules (e.g. delete UDP entries that still point at removed endpoints). Runs off the event loop; a hook
 * that throws is logged and counted, never allowed to fail the sync.
 */
public interface ConntrackHook {

    /** A short name for logs and metrics labels. */
    String name();

    /** Acts on one successful sync. */
    void afterSync(ConntrackChange change) throws Exception;
}
