package io.kubeferry.proxy.conntrack;

/**
 * Called after every successful sync with what changed, so connection-tracking state can follow the rules (delete
 * UDP entries that still point at removed endpoints, cut TCP flows to removed pods, export removals). Registered by
 * a {@link ConntrackHookProvider} on the class path: built-ins and third-party jars alike.
 *
 * <p>The contract, as {@link ConntrackHooks} keeps it:
 * <ul>
 *   <li><b>Threading.</b> Each hook has a thread of its own: never the Vert.x event loop, never the sync thread, so a
 *       slow hook delays neither the next sync nor the other hooks. A hook's calls never overlap (it needs no
 *       locking for state it keeps between calls); different hooks run at the same time.</li>
 *   <li><b>Ordering.</b> A hook sees every successful sync's change exactly once and in sync order. While it is
 *       busy, the changes of the syncs that complete meanwhile are merged ({@link ConntrackChange#then}) and given
 *       to it as one when it returns ({@link ConntrackChange#syncs()} says how many): nothing is queued without
 *       bound and nothing is dropped. The first call covers the first sync, from an empty state.</li>
 *   <li><b>Time limit.</b> A call may take up to the configured limit ({@code --conntrack-hook-timeout}, default
 *       30 s). Past it the call is logged, counted in {@code kubeferry_conntrack_hook_failures_total{hook}} and its
 *       thread interrupted; the changes arriving until it does return are merged for its next call. Honour
 *       interruption in long loops and give tool calls their own timeouts.</li>
 *   <li><b>Failure.</b> An exception is logged and counted the same way and never fails, retries or delays a
 *       sync; the change it was given is not offered again (a hook that must retry keeps what it missed itself,
 *       or reconciles from {@link ConntrackChange#current()}). Durations go to
 *       {@code kubeferry_conntrack_hook_duration_seconds{hook}}.</li>
 *   <li><b>Values.</b> Everything a hook is given is immutable; it may keep references.</li>
 * </ul>
 */
public interface ConntrackHook {

    /** A short name for logs and the {@code hook} metrics label; unique among the hooks loaded. */
    String name();

    /** Acts on one successful sync (or several merged), on the hook's own thread. */
    void afterSync(ConntrackChange change) throws Exception;

    /** The agent stops: release threads or files the hook holds. Called once, from the stopping thread. */
    default void close() {
    }
}
