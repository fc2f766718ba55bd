package io.kubeferry.nftables;

import java.util.AbstractMap;
import java.util.Map;
import java.util.Set;

/**
 * What a {@link LayeredMap} and its {@link LayeredMap.Editor} share: a base and a layer of changes over it, read
 * through the layer first.
 */
abstract class MapLayers<K, V> extends AbstractMap<K, V> {

    /** A key the layer removed from the base. */
    static final Object GONE = new Object();

    final Map<K, V> base;
    final Map<K, Object> layer;

    MapLayers(Map<K, V> base, Map<K, Object> layer) {
        this.base = base;
        this.layer = layer;
    }

    @Override
    public boolean containsKey(Object key) {
        return get(key) != null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        Object changed = layer.get(key);
        if (changed == GONE) {
            return null;
        }
        return changed != null ? (V) changed : base.get(key);
    }

    @Override
    public Set<Entry<K, V>> entrySet() {
        // Read-only view: an editor's changes go through put and remove.
        return new LayeredMap.Entries<>(base, layer, size());
    }
}
