package io.kubeferry.proxy.model;

import java.util.Comparator;
import java.util.Objects;

/**
 * Identifies one port of one Service: the unit kube-ferry tracks changes for and renders chains for.
 *
 * @param namespace the Service's namespace
 * @param name      the Service's name
 * @param port      the port's name ("" when the Service has a single unnamed port)
 * @param protocol  the port's protocol
 */
public record ServicePortName(String namespace, String name, String port, Protocol protocol)
        implements
            Comparable<ServicePortName> {

    private static final Comparator<ServicePortName> ORDER = Comparator
            .comparing(ServicePortName::namespace)
            .thenComparing(ServicePortName::name)
            .thenComparing(ServicePortName::port)
            .thenComparing(ServicePortName::protocol);

    public ServicePortName {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        port = port == null ? "" : port;
        Objects.requireNonNull(protocol, "protocol");
    }

    /** The Service this port belongs to, as {@code namespace/name}. */
    public String serviceKey() {
        return namespace + "/" + name;
    }

    /**
     * Upstream's ServicePortName string: {@code ns/name} plus {@code :port} when the port is named. It is
     * both the text of rule comments and the input of the chain-name hash, so it must not change.
     */
    @Override
    public String toString() {
        return port.isEmpty() ? serviceKey() : serviceKey() + ":" + port;
    }

    @Override
    public int compareTo(ServicePortName other) {
        return ORDER.compare(this, other);
    }
}
