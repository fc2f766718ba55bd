package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.conntrack.ConntrackChanges.ServiceEndpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePort;

import java.util.List;

/**
 * Which removed endpoints have their TCP flows cut (kubernetes#100698): those of TCP Service ports opted in (the
 * annotation {@value #ANNOTATION}{@code : "true"}, or every Service with {@code --conntrack-flush-tcp}, which
 * {@code "false"} then opts a Service out) that left their EndpointSlices while not terminating. One definition for
 * the conntrack hook ({@link RemovedEndpointTcpFlows}) and for IPVS mode, which must also delete such an endpoint's
 * real server at once instead of draining it: IPVS forwards by its own connection table, which a conntrack
 * deletion does not touch.
 *
 * @param everyService {@code --conntrack-flush-tcp}: Services without the annotation are opted in
 */
public record TcpFlushPolicy(boolean everyService) {

    public static final String ANNOTATION = "kube-ferry.io/conntrack-flush-tcp";

    /** The Service port's annotation if it has one, else the node's setting. */
    public boolean optedIn(ServicePort service) {
        String value = service.options().get(ANNOTATION);
        return value == null ? everyService : Boolean.parseBoolean(value.strip());
    }

    /**
     * The removals whose TCP flows are cut: TCP Service ports opted in, endpoints not terminating when last seen (a
     * terminating endpoint keeps its flows to drain; one that only turned unready is still listed, not removed).
     */
    public List<ServiceEndpoint> cut(ConntrackChanges changes) {
        return changes.removedEndpoints().stream().filter(r -> r.service().protocol() == Protocol.TCP).filter(r -> !r.terminating())
                .filter(r -> optedIn(r.service())).toList();
    }
}
