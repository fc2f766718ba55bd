package io.kubeferry.proxy.config;

import java.util.Objects;

/**
 * A server bind address, {@code host:port} as healthzBindAddress and metricsBindAddress hold it. The one
 * parser of that form: the configuration checks it, the port flags rewrite it and the HTTP servers listen on
 * it. An IPv6 host is written in brackets ({@code [::1]:10256}); {@link #host()} is the bare address a
 * socket wants, {@link #toString()} puts the brackets back.
 *
 * @param host the address or name to bind, without brackets
 * @param port 0-65535 (0: any free port)
 */
public record HostPort(String host, int port) {

    public HostPort {
        Objects.requireNonNull(host, "host");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("must be host:port, got \":" + port + "\"");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0-65535, got \"" + host + ":" + port + "\"");
        }
    }

    /**
     * Parses {@code host:port} or {@code [ipv6]:port}. The port is after the last colon, so an unbracketed IPv6
     * host is read as the address before it (as kube-ferry always has).
     *
     * @throws IllegalArgumentException saying what is wrong and quoting the text
     */
    public static HostPort parse(String text) {
        int colon = text.lastIndexOf(':');
        String host = colon > 0 ? unbracketed(text.substring(0, colon)) : "";
        if (host.isEmpty()) {
            throw new IllegalArgumentException("must be host:port, got \"" + text + "\"");
        }
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (port >= 0 && port <= 65535) {
                return new HostPort(host, port);
            }
        } catch (NumberFormatException e) {
            // reported below with the text, as an out-of-range number is
        }
        throw new IllegalArgumentException("port must be 0-65535, got \"" + text + "\"");
    }

    /**
     * The host of {@code text} ({@code host:port}, or a bare host or IPv4 address) with {@code port} instead:
     * what a port flag (--healthz-port) makes of a bind address. The old port is not read.
     */
    public static HostPort withPort(String text, int port) {
        int colon = text.lastIndexOf(':');
        return new HostPort(unbracketed(colon > 0 ? text.substring(0, colon) : text), port);
    }

    private static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** {@code host:port}, with the host in brackets when it is an IPv6 address. */
    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
