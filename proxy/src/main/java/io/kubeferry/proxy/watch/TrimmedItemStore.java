package io.kubeferry.proxy.watch;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An informer's cache that drops, before an object is stored, what nothing in the agent reads: the
 * managedFields (server-side apply bookkeeping, a tree of maps about as large as the object itself),
 * kubectl's last-applied-configuration annotation (a second copy of the object as JSON) and, for the Node,
 * the list of container images (hundreds of entries on a busy node). The informer keeps every Service and
 * EndpointSlice of the cluster for as long as the agent runs, so this is most of the memory the cluster
 * costs the agent beyond its own model. The object is trimmed in place, before the event handlers see it:
 * the converters read only what stays (spec, status, labels, the other annotations), so a resync, which
 * delivers the stored objects again, converts to the same state. Same keys as Fabric8's default store.
 */
final class TrimmedItemStore<T extends HasMetadata> extends BasicItemStore<T> {

    static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    TrimmedItemStore() {
        super(Cache::metaNamespaceKeyFunc);
    }

    @Override
    public T put(String key, T obj) {
        trim(obj);
        return super.put(key, obj);
    }

    static void trim(HasMetadata obj) {
        ObjectMeta meta = obj.getMetadata();
        if (meta != null) {
            meta.setManagedFields(null);
            Map<String, String> annotations = meta.getAnnotations();
            if (annotations != null && annotations.containsKey(LAST_APPLIED)) {
                // A copy: the map may be one the caller cannot change.
                Map<String, String> kept = new LinkedHashMap<>(annotations);
                kept.remove(LAST_APPLIED);
                meta.setAnnotations(kept);
            }
        }
        if (obj instanceof Node node && node.getStatus() != null) {
            node.getStatus().setImages(null);
        }
    }
}
