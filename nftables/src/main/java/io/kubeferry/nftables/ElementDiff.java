package io.kubeferry.nftables;

import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The element diff of one sync, upstream's nftElementStorage (ensureElem, cleanupLeftoverKeys): the shared sets'
 * and maps' contents after the sync (container, then key to value), who holds each map key ({@link #slot}: the
 * first Service port in order that wants it), the map keys more than one port wants, how many ports want each set
 * element (all ports of a Service share its ClusterIP), and the elements to delete.
 */
record ElementDiff(Map<String, Map<String, String>> store, Map<String, ServicePortName> owners, Set<String> contested,
        Map<String, Integer> claims, List<NftObject.Element> leftovers) {

    /** One key of one container, as one string. */
    static String slot(String container, String key) {
        return container + " " + key;
    }

    /**
     * Every Service port's elements against what the table holds: adds what is new, deletes and re-adds what
     * changed value (a map element cannot be updated in place), leaves the leftovers to the caller.
     */
    static ElementDiff full(NftTransaction tx, ProxyState state, Map<ServicePortName, ServiceProgram> programs,
            NftMemory before) {
        Map<String, Map<String, String>> after = new LinkedHashMap<>();
        NftablesRenderer.DIFFED.forEach(c -> after.put(c, new HashMap<>()));
        Map<String, ServicePortName> owners = new HashMap<>();
        Set<String> contested = new HashSet<>();
        Map<String, Integer> claims = new HashMap<>();
        for (ResolvedService svc : state.services().values()) {
            for (NftObject.Element e : programs.get(svc.name()).elements()) {
                Map<String, String> wanted = after.get(e.container());
                String key = e.keyText();
                String slot = slot(e.container(), key);
                if (!e.inMap() && claims.merge(slot, 1, Integer::sum) > 1) {
                    continue;
                }
                ServicePortName owner = e.inMap() ? owners.putIfAbsent(slot, svc.name()) : null;
                if (owner != null) {
                    if (!owner.equals(svc.name())) {
                        // Two Services claim one address and port (e.g. the same external IP): the first in order
                        // keeps it; nft would fail the whole transaction on the second.
                        contested.add(slot);
                    }
                    continue;
                }
                String value = stored(e);
                wanted.put(key, value);
                String had = before == null ? null : before.elements().getOrDefault(e.container(), Map.of()).get(key);
                if (had == null) {
                    tx.add(e);
                } else if (!had.equals(value)) {
                    tx.delete(new NftObject.Element(e.inMap(), e.container(), e.key(), List.of(), null)).add(e);
                }
            }
        }
        List<NftObject.Element> leftovers = new ArrayList<>();
        if (before != null) {
            for (String container : NftablesRenderer.DIFFED) {
                Map<String, String> wanted = after.get(container);
                TreeSet<String> gone = new TreeSet<>();
                for (String key : before.elements().getOrDefault(container, Map.of()).keySet()) {
                    if (!wanted.containsKey(key)) {
                        gone.add(key);
                    }
                }
                gone.forEach(key -> leftovers.add(removal(container, key)));
            }
        }
        Map<String, Map<String, String>> store = new HashMap<>();
        after.forEach((k, v) -> store.put(k, Collections.unmodifiableMap(v)));
        return new ElementDiff(store, owners, contested, claims, leftovers);
    }

    /**
     * The touched ports' elements only: the keys their old programs held and their new ones want. When one of those
     * keys is wanted by more than one port, who holds it depends on the others too: the full diff decides then.
     */
    static ElementDiff partial(NftTransaction tx, ProxyState state, Map<ServicePortName, ServiceProgram> programs,
            NftMemory before, Set<ServicePortName> touched) {
        Map<String, NftObject.Element> claimed = new LinkedHashMap<>();
        for (ServicePortName name : touched) {
            ServiceProgram now = programs.get(name);
            for (NftObject.Element e : now == null ? List.<NftObject.Element>of() : now.elements()) {
                if (!e.inMap()) {
                    continue;
                }
                String slot = slot(e.container(), e.keyText());
                ServicePortName owner = before.owners().get(slot);
                boolean heldByOther = owner != null && !touched.contains(owner);
                if (claimed.putIfAbsent(slot, e) != null || heldByOther || before.contested().contains(slot)) {
                    return full(tx, state, programs, before);
                }
            }
        }
        Set<String> released = new TreeSet<>();
        // Copies of the last sync's maps that cost what this sync changes, not the cluster (LayeredMap).
        LayeredMap.Editor<String, Integer> claims = LayeredMap.edit(before.claims());
        // The only claims that can drop to zero: every stored count is at least one.
        Set<String> decremented = new HashSet<>();
        for (ServicePortName name : touched) {
            ServiceProgram old = before.programs().get(name);
            for (NftObject.Element e : old == null ? List.<NftObject.Element>of() : old.elements()) {
                String slot = slot(e.container(), e.keyText());
                if (!e.inMap()) {
                    claims.merge(slot, -1, Integer::sum);
                    decremented.add(slot);
                } else if (before.contested().contains(slot)) {
                    return full(tx, state, programs, before);
                } else if (!claimed.containsKey(slot) && name.equals(before.owners().get(slot))) {
                    released.add(slot);
                }
            }
        }
        Map<String, LayeredMap.Editor<String, String>> store = new HashMap<>();
        before.elements().forEach((k, v) -> store.put(k, LayeredMap.edit(v)));
        LayeredMap.Editor<String, ServicePortName> owners = LayeredMap.edit(before.owners());
        for (ServicePortName name : touched) {
            ServiceProgram now = programs.get(name);
            for (NftObject.Element e : now == null ? List.<NftObject.Element>of() : now.elements()) {
                String key = e.keyText();
                String slot = slot(e.container(), key);
                if (!e.inMap()) {
                    if (claims.merge(slot, 1, Integer::sum) == 1 && !store.get(e.container()).containsKey(key)) {
                        store.get(e.container()).put(key, "");
                        tx.add(e);
                    }
                    continue;
                }
                String value = stored(e);
                String had = store.get(e.container()).put(key, value);
                owners.put(slot, name);
                if (had == null) {
                    tx.add(e);
                } else if (!had.equals(value)) {
                    tx.delete(new NftObject.Element(e.inMap(), e.container(), e.key(), List.of(), null)).add(e);
                }
            }
        }
        for (String slot : decremented) {
            Integer count = claims.get(slot);
            if (count != null && count <= 0) {
                claims.remove(slot);
                released.add(slot);
            }
        }
        List<NftObject.Element> leftovers = new ArrayList<>();
        for (String container : NftablesRenderer.DIFFED) {
            for (String slot : released) {
                if (slot.startsWith(container + " ")) {
                    String key = slot.substring(container.length() + 1);
                    store.get(container).remove(key);
                    owners.remove(slot);
                    leftovers.add(removal(container, key));
                }
            }
        }
        Map<String, Map<String, String>> frozen = new HashMap<>();
        store.forEach((k, v) -> frozen.put(k, v.build()));
        return new ElementDiff(frozen, owners.build(), before.contested(), claims.build(), leftovers);
    }

    /**
     * A map element as the store remembers it: its value and its comment. The comment names the Service port, and
     * a key can pass from one port to another with the same verdict (a port renamed, e.g. a Service's one unnamed
     * port becoming named "p0" of two): it is rewritten then, as a full sync from scratch would write it, rather
     * than left naming a port that is gone.
     */
    static String stored(NftObject.Element e) {
        return e.comment() == null ? e.valueText() : e.valueText() + " comment \"" + e.comment() + "\"";
    }

    private static NftObject.Element removal(String container, String key) {
        return new NftObject.Element(!container.equals(NftablesRenderer.CLUSTER_IPS), container, List.of(key.split(" \\. ")), List.of(),
                null);
    }
}
