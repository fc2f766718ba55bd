package io.kubeferry.proxy.model;

import java.util.Objects;
import java.util.Set;

/**
 * One endpoint of a Service port, merged from the Service's EndpointSlices.
 *
 * @param ip          the endpoint's address (IPv4, or IPv6 in its canonical compressed form)
 * @param port        the target port
 * @param ready       conditions.ready (an absent condition counts as ready, as upstream does)
 * @param serving     conditions.serving (absent: same as ready)
 * @param terminating conditions.terminating (absent: false)
 * @param nodeName    the node the endpoint runs on ("" when unknown)
 * @param zone        the endpoint's zone ("" when unknown)
 * @param zoneHints   hints.forZones names
 * @param nodeHints   hints.forNodes names
 * @param local       true when the endpoint runs on this node
 */
public record Endpoint(
        String ip,
        int port,
        boolean ready,
        boolean serving,
        boolean terminating,
        String nodeName,
        String zone,
        Set<String> zoneHints,
        Set<String> nodeHints,
        boolean local) {

    public Endpoint {
        Objects.requireNonNull(ip, "ip");
        nodeName = nodeName == null ? "" : nodeName;
        zone = zone == null ? "" : zone;
        zoneHints = Set.copyOf(zoneHints);
        nodeHints = Set.copyOf(nodeHints);
    }

    /**
     * {@code ip:port}, or {@code [ip]:port} for IPv6 (Go's net.JoinHostPort): upstream's endpoint string, part of
     * the KUBE-SEP chain-name hash input and the sort key of a Service's endpoints.
     */
    public String hostPort() {
        return ip.indexOf(':') >= 0 ? "[" + ip + "]:" + port : ip + ":" + port;
    }

    public IpFamily family() {
        return ip.indexOf(':') >= 0 ? IpFamily.IPv6 : IpFamily.IPv4;
    }
}
