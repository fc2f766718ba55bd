package io.kubeferry.proxy.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * This node as kube-ferry sees it.
 *
 * @param name     the node name (hostname-override or the host name)
 * @param labels   the Node's labels (topology.kubernetes.io/zone is read from them)
 * @param eligible  false when the Node is being deleted or carries the ToBeDeleted taint (healthz then fails)
 * @param addresses the Node's InternalIP/ExternalIP addresses from its status, in that order, of the family of the
 *                  state that holds this NodeInfo (IPv6 in canonical form); what {@code render} opens NodePorts on
 *                  (the agent reads the kernel's own addresses instead)
 */
public record NodeInfo(String name, Map<String, String> labels, boolean eligible, List<String> addresses) {

    public static final String ZONE_LABEL = "topology.kubernetes.io/zone";

    public NodeInfo {
        Objects.requireNonNull(name, "name");
        labels = Map.copyOf(labels);
        addresses = List.copyOf(addresses);
    }

    public NodeInfo(String name, Map<String, String> labels, boolean eligible) {
        this(name, labels, eligible, List.of());
    }

    public NodeInfo withAddresses(List<String> value) {
        return new NodeInfo(name, labels, eligible, value);
    }

    public static NodeInfo named(String name) {
        return new NodeInfo(name, Map.of(), true);
    }

    public String zone() {
        return labels.getOrDefault(ZONE_LABEL, "");
    }
}
