package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.conntrack.ConntrackChanges.ServiceEndpoint;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Cuts the TCP flows of removed endpoints (kubernetes#100698). Upstream leaves a TCP conntrack entry in place when its
 * endpoint goes, so a client whose pod vanished keeps sending into the void until its own time-outs fire (minutes
 * for a pooled connection). Deleting the entry makes the client's next packet a new flow: it is DNATed to a live
 * endpoint, which answers the unknown connection with a reset, or refused when none is left: the client fails at
 * once and reconnects.
 *
 * <p>Opt-in, because cutting a connection is a behaviour change: per Service with the annotation
 * {@value #ANNOTATION}{@code : "true"}, or for every Service with {@code --conntrack-flush-tcp} ({@code "false"}
 * then opts a Service out). Only endpoints that left the EndpointSlices while not terminating: a terminating
 * endpoint keeps its flows to drain (graceful termination), and one that merely turned unready is still listed,
 * so a readiness blip cuts nothing. {@link TcpFlushPolicy} says which; IPVS mode applies the same to its real
 * servers (deleted at once, not drained). Its flows are in conntrack too ({@code net.ipv4.vs.conntrack=1}), with
 * the virtual IP as original destination and the real server as reply source, and the same deletions match them;
 * there the kernel usually drops them first, with the IPVS connections of the deleted real server
 * (expire_nodest_conn), and this hook finds none left.
 *
 * <p>One {@code conntrack -D} per removed endpoint, matching the DNATed flows answered by its {@code ip:port}
 * ({@code -p tcp --dst-nat --reply-src IP --reply-port-src PORT}): pod-to-pod flows to the same address are not
 * NATed and stay. When another Service port still lists the same {@code ip:port}, its flows through that Service
 * must stay, so the deletion narrows to each address of the removed one (one per Service IP and port).
 */
final class RemovedEndpointTcpFlows implements ConntrackHook {

    static final String ANNOTATION = TcpFlushPolicy.ANNOTATION;
    private static final Logger LOG = LoggerFactory.getLogger(RemovedEndpointTcpFlows.class);

    private final ToolRunner tools;
    private final TcpFlushPolicy policy;
    private final Counter deleted;
    /**
     * Per family, removed endpoints whose deletion failed, retried with that family's next change (the hook's one
     * thread owns it).
     */
    private final java.util.Map<io.kubeferry.proxy.model.IpFamily, List<ServiceEndpoint>> failed = new java.util.EnumMap<>(
            io.kubeferry.proxy.model.IpFamily.class);

    RemovedEndpointTcpFlows(ToolRunner tools, boolean everyService, MeterRegistry metrics) {
        this.tools = tools;
        this.policy = new TcpFlushPolicy(everyService);
        this.deleted = Counter.builder("kubeferry.conntrack.tcp.deleted.entries")
                .description("Cumulative TCP conntrack flows of removed endpoints deleted").register(metrics);
    }

    @Override
    public String name() {
        return "flush-tcp";
    }

    @Override
    public void afterSync(ConntrackChange change) throws ToolException {
        List<ServiceEndpoint> cut = new ArrayList<>(unfinished(change.current()));
        policy.cut(change.changes()).stream().filter(r -> !cut.contains(r)).forEach(cut::add);
        if (cut.isEmpty()) {
            return;
        }
        List<ConntrackDelete> deletes = deletions(cut, change.current());
        // Kept until the deletions went through: a later change no longer names these endpoints, and their clients
        // would hang on the removed pod, which is what this hook exists to prevent.
        failed.put(change.current().family(), cut);
        long removed = ConntrackDelete.runAll(tools, deletes, "TCP flow", deleted);
        failed.remove(change.current().family());
        LOG.info("cut {} TCP flows of {} removed endpoints ({} conntrack deletions)", removed, cut.size(), deletes.size());
    }

    /** The endpoints a failed call left to cut, less those their Service lists again (their new flows must stay). */
    private List<ServiceEndpoint> unfinished(ProxyState current) {
        return failed.getOrDefault(current.family(), List.of()).stream().filter(r -> {
            ResolvedService now = current.services().get(r.service().name());
            return now == null || now.allEndpoints().stream().noneMatch(ep -> ep.hostPort().equals(r.endpoint().hostPort()));
        }).toList();
    }

    static List<ConntrackDelete> deletions(List<ServiceEndpoint> cut, ProxyState current) {
        Set<String> stillListed = new HashSet<>();
        for (ResolvedService svc : current.services().values()) {
            if (svc.port().protocol() == Protocol.TCP) {
                svc.allEndpoints().forEach(ep -> stillListed.add(ep.hostPort()));
            }
        }
        Set<ConntrackDelete> deletes = new LinkedHashSet<>();
        for (ServiceEndpoint r : cut) {
            Endpoint ep = r.endpoint();
            String port = String.valueOf(ep.port());
            if (!stillListed.contains(ep.hostPort())) {
                deletes.add(
                        ConntrackDelete.of(current.family(), "-p", "tcp", "--dst-nat", "--reply-src", ep.ip(), "--reply-port-src", port));
                continue;
            }
            for (String address : ConntrackChanges.addresses(r.service())) {
                int colon = address.lastIndexOf(':');
                String servicePort = address.substring(colon + 1);
                if (colon == 0) {
                    // A NodePort: the node address it arrived on is any of the node's; the port names the Service.
                    deletes.add(ConntrackDelete.of(current.family(), "-p", "tcp", "--dst-nat", "--orig-port-dst", servicePort,
                            "--reply-src", ep.ip(), "--reply-port-src", port));
                } else {
                    deletes.add(ConntrackDelete.of(current.family(), "-p", "tcp", "--orig-dst", address.substring(0, colon),
                            "--orig-port-dst", servicePort, "--reply-src", ep.ip(), "--reply-port-src", port));
                }
            }
        }
        return List.copyOf(deletes);
    }
}
