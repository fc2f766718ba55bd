package io.kubeferry.proxy.model;

import java.util.Collections;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The immutable snapshot a dataplane programs: every Service port this node serves with its chosen
 * endpoints. Built by the sync stage; never shared mutably with the watch side.
 *
 * @param node       this node
 * @param services   every Service port, in a stable order
 * @param generation increases with every snapshot built, for logs and /debug
 */
public record ProxyState(NodeInfo node, SortedMap<ServicePortName, ResolvedService> services, long generation) {

    public ProxyState {
        Objects.requireNonNull(node, "node");
        services = Collections.unmodifiableSortedMap(new TreeMap<>(services));
    }

    public static ProxyState empty(NodeInfo node) {
        return new ProxyState(node, new TreeMap<>(), 0);
    }
}
