package io.kubeferry.nftables;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * An immutable map made of a frozen base and a small layer of changes over it, so that the next sync's copy with a
 * few changes costs the changes, not the map: a partial sync at 10,000 Services copied every Service's program and
 * every element of the shared sets and maps (most of its render time) to change one. {@link #edit} gives a
 * mutable copy ({@link Editor}) sharing the base; {@link Editor#build} freezes it again, folding the layer into a
 * new base once it has grown to a quarter of the base (so lookups stay two probes and the copies amortise).
 * No null keys or values.
 */
final class LayeredMap<K, V> extends MapLayers<K, V> {

    private final int size;

    private LayeredMap(Map<K, V> base, Map<K, Object> layer, int size) {
        super(base, layer);
        this.size = size;
    }

    /**
     * {@code map} as the start of a layered map: a layered map itself (an {@link #edit} of it shares its base), or a
     * map its caller built for this use alone and no longer changes (taken as the base, not copied).
     */
    static <K, V> Editor<K, V> edit(Map<K, V> map) {
        if (map instanceof LayeredMap<K, V> m) {
            return new Editor<>(m.base, new HashMap<>(m.layer), m.size);
        }
        return new Editor<>(map, new HashMap<>(), map.size());
    }

    @Override
    public int size() {
        return size;
    }

    /** A mutable copy of a layered map: changes go to its own layer, the base stays shared and untouched. */
    static final class Editor<K, V> extends MapLayers<K, V> {

        private int size;

        private Editor(Map<K, V> base, Map<K, Object> layer, int size) {
            super(base, layer);
            this.size = size;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public V put(K key, V value) {
            if (key == null || value == null) {
                throw new NullPointerException("a layered map holds no null key or value");
            }
            V had = get(key);
            layer.put(key, value);
            if (had == null) {
                size++;
            }
            return had;
        }

        @Override
        @SuppressWarnings("unchecked")
        public V remove(Object key) {
            V had = get(key);
            if (had != null) {
                if (base.containsKey(key)) {
                    layer.put((K) key, MapLayers.GONE);
                } else {
                    layer.remove(key);
                }
                size--;
            }
            return had;
        }

        /** The map as it is now, frozen; the editor must not be used after. */
        @SuppressWarnings("unchecked")
        LayeredMap<K, V> build() {
            if (layer.size() <= 64 || layer.size() <= base.size() / 4) {
                return new LayeredMap<>(base, layer, size);
            }
            Map<K, V> folded = new HashMap<>(Math.max(16, size * 2));
            folded.putAll(base);
            layer.forEach((k, v) -> {
                if (v == MapLayers.GONE) {
                    folded.remove(k);
                } else {
                    folded.put(k, (V) v);
                }
            });
            return new LayeredMap<>(folded, new HashMap<>(), size);
        }
    }

    /**
     * A set as a layered map's keys, for the same cheap copies: {@link #editKeys} of a {@link Keys} shares its base;
     * of any other set (one its caller no longer changes) takes it as the base.
     */
    static <K> KeyEditor<K> editKeys(Set<K> set) {
        Map<K, Boolean> map = set instanceof Keys<K> keys ? keys.map : new SetAsMap<>(set);
        return new KeyEditor<>(edit(map));
    }

    /** A set read through a map's keys (no nulls). */
    private abstract static class MapKeys<K> extends AbstractSet<K> {

        final Map<K, Boolean> map;

        MapKeys(Map<K, Boolean> map) {
            this.map = map;
        }

        @Override
        public boolean contains(Object o) {
            return map.containsKey(o);
        }

        @Override
        public int size() {
            return map.size();
        }

        @Override
        public Iterator<K> iterator() {
            // Read-only: neither map's entry iterator removes.
            return map.keySet().iterator();
        }
    }

    /** The frozen keys of a layered map. */
    static final class Keys<K> extends MapKeys<K> {

        private Keys(LayeredMap<K, Boolean> map) {
            super(map);
        }
    }

    /** A mutable copy of a set, changes in a layer over the shared base. */
    static final class KeyEditor<K> extends MapKeys<K> {

        private final Editor<K, Boolean> editor;

        private KeyEditor(Editor<K, Boolean> editor) {
            super(editor);
            this.editor = editor;
        }

        @Override
        public boolean add(K k) {
            return editor.put(k, Boolean.TRUE) == null;
        }

        @Override
        public boolean remove(Object o) {
            return editor.remove(o) != null;
        }

        /** The set as it is now, frozen; the editor must not be used after. */
        Keys<K> build() {
            return new Keys<>(editor.build());
        }
    }

    /** A plain set read as a map to TRUE: the base of a set's first layered copy. */
    private static final class SetAsMap<K> extends AbstractMap<K, Boolean> {

        private final Set<K> set;

        SetAsMap(Set<K> set) {
            this.set = set;
        }

        @Override
        public Boolean get(Object key) {
            return set.contains(key) ? Boolean.TRUE : null;
        }

        @Override
        public boolean containsKey(Object key) {
            return set.contains(key);
        }

        @Override
        public int size() {
            return set.size();
        }

        @Override
        public Set<Entry<K, Boolean>> entrySet() {
            return new AbstractSet<>() {

                @Override
                public int size() {
                    return set.size();
                }

                @Override
                public Iterator<Entry<K, Boolean>> iterator() {
                    Iterator<K> keys = set.iterator();
                    return new Iterator<>() {

                        @Override
                        public boolean hasNext() {
                            return keys.hasNext();
                        }

                        @Override
                        public Entry<K, Boolean> next() {
                            return new SimpleImmutableEntry<>(keys.next(), Boolean.TRUE);
                        }
                    };
                }
            };
        }
    }

    /** The entries of base and layer: the layer's values first, then the base's keys the layer did not touch. */
    static final class Entries<K, V> extends AbstractSet<Entry<K, V>> {

        private final Map<K, V> base;
        private final Map<K, Object> layer;
        private final int size;

        Entries(Map<K, V> base, Map<K, Object> layer, int size) {
            this.base = base;
            this.layer = layer;
            this.size = size;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public Iterator<Entry<K, V>> iterator() {
            Iterator<Entry<K, Object>> changed = layer.entrySet().iterator();
            Iterator<Entry<K, V>> kept = base.entrySet().iterator();
            return new Iterator<>() {

                private Entry<K, V> next = advance();

                @SuppressWarnings("unchecked")
                private Entry<K, V> advance() {
                    while (changed.hasNext()) {
                        Entry<K, Object> e = changed.next();
                        if (e.getValue() != MapLayers.GONE) {
                            return new SimpleImmutableEntry<>(e.getKey(), (V) e.getValue());
                        }
                    }
                    while (kept.hasNext()) {
                        Entry<K, V> e = kept.next();
                        if (!layer.containsKey(e.getKey())) {
                            return new SimpleImmutableEntry<>(e);
                        }
                    }
                    return null;
                }

                @Override
                public boolean hasNext() {
                    return next != null;
                }

                @Override
                public Entry<K, V> next() {
                    if (next == null) {
                        throw new NoSuchElementException();
                    }
                    Entry<K, V> e = next;
                    next = advance();
                    return e;
                }
            };
        }
    }
}
