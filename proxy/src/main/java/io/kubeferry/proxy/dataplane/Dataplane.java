package io.kubeferry.proxy.dataplane;

/**
 * A kernel dataplane (iptables, ipvs): turns a {@link SyncRequest} into kernel state. Found by mode name
 * through {@link DataplaneProvider}; the core never imports a backend. Every method blocks: the sync stage
 * calls them off the event loop, one at a time.
 */
public interface Dataplane {

    /** The mode name, e.g. {@code iptables}. */
    String mode();

    /**
     * Renders the program for the request without touching the machine: exactly the text that
     * {@link #sync} would apply for a full sync of the same state (what {@code kube-ferry render} prints).
     */
    String render(SyncRequest request);

    /**
     * Makes the kernel match the request's state. A partial request may rewrite only the changed Service
     * ports; the backend decides to go full when it must (first sync, lost canary, last sync failed).
     *
     * @throws DataplaneException when applying failed; the caller retries with a full sync
     */
    SyncResult sync(SyncRequest request) throws DataplaneException;

    /**
     * True when this mode's own kernel state is present on the node (e.g. its per-Service chains, or IPVS
     * virtual servers). An agent starting in another mode cleans up such leftovers first, so operators
     * can switch modes on a live node.
     */
    default boolean hasLeftovers() throws DataplaneException {
        return false;
    }

    /**
     * Checks at start-up, before the first sync, that the kernel can run this mode (e.g. IPVS is there), so a
     * node that cannot fails at once with what is missing and how to fix it instead of failing every sync.
     *
     * @throws DataplaneException naming what is missing
     */
    default void checkKernel() throws DataplaneException {
    }

    /**
     * Removes everything this mode has ever programmed on the node ({@code kube-ferry cleanup}). A step that
     * fails does not stop the others; the report counts only what was removed and names each failure.
     */
    CleanupReport cleanup();

    /**
     * The kernel state this mode writes under names another mode may write too, each named the way the modes
     * sharing it agree on (netfilter chains as {@code table/chain}, e.g. {@code nat/KUBE-SERVICES}). A mode taking
     * over from another must not lose these: see {@link #cleanupNotUsedBy}.
     */
    default java.util.Set<String> sharedState() {
        return java.util.Set.of();
    }

    /**
     * Removes this mode's state after another mode has taken over the node: like {@link #cleanup()}, but what
     * the running mode uses ({@code inUse}, its {@link #sharedState()}) is left as it is, with whatever leads
     * into it, so traffic keeps flowing through the running mode. Reports as {@link #cleanup()}.
     */
    default CleanupReport cleanupNotUsedBy(java.util.Set<String> inUse) {
        return cleanup();
    }

    /**
     * How often {@link #housekeeping()} should run; zero for never. Housekeeping is work that follows the
     * kernel rather than the cluster, such as deleting drained IPVS real servers.
     */
    default java.time.Duration housekeepingPeriod() {
        return java.time.Duration.ZERO;
    }

    /** Periodic work between syncs; runs on the same ordered worker as {@link #sync}, never at the same time. */
    default void housekeeping() throws DataplaneException {
    }

    /**
     * True when kernel state this dataplane relies on has vanished behind its back (e.g. someone flushed the
     * tables and the canary chain is gone), so the next sync must be full. Cheap; called every sync period.
     */
    default boolean kernelStateLost() {
        return false;
    }

    /**
     * The load-balancing algorithm in force per Service port, with why, in the program this dataplane built last:
     * the one the last successful {@link #sync} applied, or the one the last {@link #render} printed. Shown by
     * {@code /debug/state} and {@code render}; a port missing from the map (every port, for a mode that does not
     * report) is shown without one. Called from other threads: return an immutable map.
     */
    default java.util.Map<io.kubeferry.proxy.model.ServicePortName, SchedulerInForce> schedulers() {
        return java.util.Map.of();
    }
}
