package io.kubeferry.proxy.watch;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Whether each kind's initial list has reached the agent's state, not only its informer's cache. Fabric8's
 * {@code hasSynced()} turns true once the list is in the informer's store, while its handlers may still be
 * queueing the items to the agent: a first sync then saw 60 of 1,000 Services, and being full it removed the
 * others' rules until the next sync (a connection to one of them was lost across an agent restart). So every key
 * in the store at that moment must also have come through a handler before the kind counts as synced, which is
 * what client-go's handler registration {@code HasSynced} means for kube-proxy. Each store change queues one
 * notification, so every such key does come through. Used on the agent's context only.
 */
final class InitialLists {

    /** Keys delivered before the kind's informer had synced. */
    private final Map<String, Set<String>> seen = new HashMap<>();
    /** Keys in the store when the informer synced that have not been delivered yet. */
    private final Map<String, Set<String>> awaiting = new HashMap<>();
    private final Set<String> done = new HashSet<>();

    /** A handler delivered the object with this store key. */
    void delivered(String kind, String key) {
        if (done.contains(kind)) {
            return;
        }
        Set<String> waiting = awaiting.get(kind);
        if (waiting != null) {
            waiting.remove(key);
        } else {
            seen.computeIfAbsent(kind, k -> new HashSet<>()).add(key);
        }
    }

    /**
     * Asked once the kind's informer has synced: true when everything its store held then has been delivered.
     * {@code storeKeys} is read the first time only.
     */
    boolean synced(String kind, Supplier<List<String>> storeKeys) {
        if (done.contains(kind)) {
            return true;
        }
        Set<String> waiting = awaiting.get(kind);
        if (waiting == null) {
            waiting = new HashSet<>(storeKeys.get());
            Set<String> already = seen.remove(kind);
            if (already != null) {
                waiting.removeAll(already);
            }
            awaiting.put(kind, waiting);
        }
        if (!waiting.isEmpty()) {
            return false;
        }
        awaiting.remove(kind);
        done.add(kind);
        return true;
    }

    /** How many of the kind's initial objects are still on their way (for the log while waiting). */
    int pending(String kind) {
        Set<String> waiting = awaiting.get(kind);
        return waiting == null ? 0 : waiting.size();
    }
}
