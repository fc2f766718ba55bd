package io.kubeferry.proxy.testing.trace;

import io.kubeferry.proxy.model.Protocol;

import java.util.Objects;

/**
 * The first packet of a new connection, as the node sees it.
 *
 * @param source      source address
 * @param destination destination address
 * @param protocol    L4 protocol
 * @param port        destination port
 * @param origin      where it comes from, which decides the hooks it passes
 */
public record Packet(String source, String destination, Protocol protocol, int port, Origin origin) {

    /** Where a packet enters the node's netfilter hooks. */
    public enum Origin {
        /** From a pod on this node, through its veth: PREROUTING, then INPUT or FORWARD. */
        POD,
        /** From a process on the node itself: OUTPUT (and INPUT when it stays on the node). */
        NODE,
        /** From another machine (another node, a client, a load balancer): PREROUTING, then INPUT or FORWARD. */
        OUTSIDE
    }

    public Packet {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(origin, "origin");
    }

    public static Packet tcp(Origin origin, String source, String destination, int port) {
        return new Packet(source, destination, Protocol.TCP, port, origin);
    }

    public static Packet udp(Origin origin, String source, String destination, int port) {
        return new Packet(source, destination, Protocol.UDP, port, origin);
    }

    @Override
    public String toString() {
        return protocol.lower() + " " + source + " -> " + destination + ":" + port + " from "
                + origin.name().toLowerCase(java.util.Locale.ROOT);
    }
}
