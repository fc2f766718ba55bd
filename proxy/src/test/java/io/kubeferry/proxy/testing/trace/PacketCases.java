package io.kubeferry.proxy.testing.trace;

import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ResolvedService;

import java.util.List;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.trace.Outcome.dnat;
import static io.kubeferry.proxy.testing.trace.Outcome.to;
import static io.kubeferry.proxy.testing.trace.Packet.Origin.NODE;
import static io.kubeferry.proxy.testing.trace.Packet.Origin.OUTSIDE;
import static io.kubeferry.proxy.testing.trace.Packet.Origin.POD;
import static io.kubeferry.proxy.testing.trace.Packet.tcp;
import static io.kubeferry.proxy.testing.trace.Packet.udp;
import static io.kubeferry.proxy.testing.trace.PacketScenario.NODE_IP;

/**
 * The packet table every dataplane must pass: what happens to the first packet of a connection, by source,
 * destination, protocol, port and where it comes from. Expectations are mode-neutral (which endpoints can be
 * reached, refused or dropped, masqueraded or not); where a mode legitimately differs, the case says so with
 * the reason ({@link PacketCase#except}).
 *
 * <p>Addresses: pods 198.18.0.0/24 (endpoints on this node 198.18.0.1x, elsewhere 198.18.0.2x-3x), the node
 * 198.18.1.1, clients outside the pod CIDR 198.18.2.0/24 (inside the load balancer's source range) and
 * 198.18.3.0/24 (outside it), Service IPs 198.19.0.0/16. Each scenario has an IPv6 twin with the same rows in
 * 2001:db8::/32 (names ending in {@code -ipv6}; the address plan is {@link Ipv6Twin}'s).
 */
public final class PacketCases {

    public static final String IPVS = "ipvs";
    public static final String NFTABLES = "nftables";

    /** A pod on this node that is no Service's endpoint. */
    static final String POD_IP = "198.18.0.100";
    /** A pod on another node: its packets arrive from outside this node, from inside the pod CIDR. */
    static final String REMOTE_POD_IP = "198.18.0.200";
    /** A client outside the pod CIDR, inside the load balancer's source range. */
    static final String CLIENT = "198.18.2.50";
    /** A client outside the pod CIDR and outside the source range. */
    static final String DENIED_CLIENT = "198.18.3.50";

    static final String WEB_LOCAL = "198.18.0.10:8080";
    static final String WEB_REMOTE = "198.18.0.20:8080";

    private PacketCases() {
    }

    static ResolvedService web() {
        return port("ns", "web", "http", Protocol.TCP, "198.19.0.1", 80)
                .resolve(localEndpoint("198.18.0.10", 8080), endpoint("198.18.0.20", 8080));
    }

    /** Every scenario: the IPv4 ones, then each one's IPv6 twin ({@link Ipv6Twin}), held to the same expectations. */
    public static List<PacketScenario> all() {
        List<PacketScenario> v4 = List.of(services(), masqueradeAll(), bothPoliciesLocal());
        List<PacketScenario> all = new java.util.ArrayList<>(v4);
        v4.forEach(s -> all.add(Ipv6Twin.of(s)));
        return List.copyOf(all);
    }

    /**
     * A NodePort with both traffic policies Local. Pods reaching it through the node's address short-circuit to
     * every endpoint (upstream's UsesClusterEndpoints is true for any externally reachable port, "to implement
     * short circuiting"); outside clients get the local one only.
     */
    static PacketScenario bothPoliciesLocal() {
        String local = "198.18.0.15:8080";
        String remote = "198.18.0.33:8080";
        return new PacketScenario("both-policies-local", false, List.of(
                port("ns", "both-local", "", Protocol.TCP, "198.19.0.12", 80).nodePort(30090).externalLocal(0).internalLocal()
                        .resolve(localEndpoint("198.18.0.15", 8080), endpoint("198.18.0.33", 8080))),
                List.of(
                        new PacketCase("both-local-nodeport-from-outside", tcp(OUTSIDE, CLIENT, NODE_IP, 30090), dnat(false, local)),
                        new PacketCase("both-local-nodeport-from-pod", tcp(POD, POD_IP, NODE_IP, 30090), dnat(false, local, remote))
                                .except(IPVS, dnat(false, local), "IPVS has one real-server list per virtual server: no short-circuit"
                                        + " of pod traffic, as upstream's IPVS mode"),
                        new PacketCase("both-local-clusterip-from-pod", tcp(POD, POD_IP, "198.19.0.12", 80), dnat(false, local))));
    }

    /** One of each kind of Service, masqueradeAll off. */
    static PacketScenario services() {
        List<ResolvedService> services = List.of(
                web(),
                port("ns", "dns", "dns", Protocol.UDP, "198.19.0.53", 53).resolve(endpoint("198.18.0.21", 5353)),
                port("ns", "np", "", Protocol.TCP, "198.19.0.2", 80).nodePort(30080)
                        .resolve(localEndpoint("198.18.0.11", 8080), endpoint("198.18.0.22", 8080)),
                port("ns", "np-local", "", Protocol.TCP, "198.19.0.3", 80).nodePort(30081).externalLocal(32001)
                        .resolve(localEndpoint("198.18.0.12", 8080), endpoint("198.18.0.23", 8080)),
                port("ns", "np-local-none", "", Protocol.TCP, "198.19.0.4", 80).nodePort(30082).externalLocal(32002)
                        .resolve(endpoint("198.18.0.24", 8080)),
                port("ns", "ext", "", Protocol.TCP, "198.19.0.5", 80).externalIP("198.19.100.1")
                        .resolve(endpoint("198.18.0.25", 8080)),
                port("ns", "ext-local", "", Protocol.TCP, "198.19.0.10", 80).externalIP("198.19.100.2").externalLocal(32003)
                        .resolve(localEndpoint("198.18.0.14", 8080), endpoint("198.18.0.31", 8080)),
                port("ns", "lb", "https", Protocol.TCP, "198.19.0.6", 443).nodePort(30443).loadBalancerIP("198.19.200.1")
                        .sourceRange("198.18.2.0/24").resolve(endpoint("198.18.0.26", 8443)),
                port("ns", "lb-node-range", "", Protocol.TCP, "198.19.0.11", 443).loadBalancerIP("198.19.200.2")
                        .sourceRange("198.18.1.0/24").resolve(endpoint("198.18.0.32", 8443)),
                port("ns", "itp", "", Protocol.TCP, "198.19.0.7", 80).internalLocal()
                        .resolve(localEndpoint("198.18.0.13", 8080), endpoint("198.18.0.27", 8080)),
                port("ns", "empty", "", Protocol.TCP, "198.19.0.8", 80).nodePort(30088).externalIP("198.19.100.3").resolve(),
                port("ns", "lb-local", "", Protocol.TCP, "198.19.0.13", 80).nodePort(30089).loadBalancerIP("198.19.200.3")
                        .externalLocal(32004).resolve(localEndpoint("198.18.0.16", 8080), endpoint("198.18.0.34", 8080)),
                port("ns", "dns-np", "", Protocol.UDP, "198.19.0.54", 53).nodePort(30053).resolve(endpoint("198.18.0.35", 5353)),
                port("ns", "sticky", "", Protocol.TCP, "198.19.0.9", 80).sticky(10800)
                        .resolve(endpoint("198.18.0.28", 8080), endpoint("198.18.0.29", 8080)));
        String filter = "kube-ferry's KUBE-IPVS-FILTER refuses new connections to a Service IP on a port that is no"
                + " Service's (kube-ipvs0 makes Service IPs local addresses; README: IPVS and the node's own ports)";
        String clusterIPsCheck = "nftables mode rejects new connections to a ClusterIP on a port that is no Service's"
                + " (cluster-ips-check: ip daddr @cluster-ips reject), as upstream's nftables mode";
        List<PacketCase> cases = List.of(
                new PacketCase("clusterip-from-pod", tcp(POD, POD_IP, "198.19.0.1", 80), dnat(false, WEB_LOCAL, WEB_REMOTE)),
                new PacketCase("clusterip-from-node", tcp(NODE, NODE_IP, "198.19.0.1", 80), dnat(true, WEB_LOCAL, WEB_REMOTE)),
                new PacketCase("clusterip-from-outside-the-cluster-cidr", tcp(OUTSIDE, CLIENT, "198.19.0.1", 80),
                        dnat(true, WEB_LOCAL, WEB_REMOTE)),
                new PacketCase("clusterip-from-a-pod-on-another-node", tcp(OUTSIDE, REMOTE_POD_IP, "198.19.0.1", 80),
                        dnat(false, WEB_LOCAL, WEB_REMOTE)),
                new PacketCase("clusterip-hairpin", tcp(POD, "198.18.0.10", "198.19.0.1", 80),
                        Outcome.of(to(WEB_LOCAL, true), to(WEB_REMOTE, false))),
                new PacketCase("clusterip-udp", udp(POD, POD_IP, "198.19.0.53", 53), dnat(false, "198.18.0.21:5353")),
                new PacketCase("clusterip-port-of-no-service", tcp(POD, POD_IP, "198.19.0.1", 81), Outcome.untouched())
                        .except(IPVS, Outcome.reject(), filter).except(NFTABLES, Outcome.reject(), clusterIPsCheck),
                new PacketCase("clusterip-protocol-of-no-service", tcp(POD, POD_IP, "198.19.0.53", 53), Outcome.untouched())
                        .except(IPVS, Outcome.reject(), filter).except(NFTABLES, Outcome.reject(), clusterIPsCheck),
                new PacketCase("pod-to-pod", tcp(POD, POD_IP, "198.18.0.20", 8080), Outcome.untouched()),
                new PacketCase("nodeport-from-outside", tcp(OUTSIDE, CLIENT, NODE_IP, 30080),
                        dnat(true, "198.18.0.11:8080", "198.18.0.22:8080")),
                new PacketCase("nodeport-from-pod", tcp(POD, POD_IP, NODE_IP, 30080), dnat(true, "198.18.0.11:8080", "198.18.0.22:8080")),
                new PacketCase("nodeport-from-node", tcp(NODE, NODE_IP, NODE_IP, 30080),
                        dnat(true, "198.18.0.11:8080", "198.18.0.22:8080")),
                new PacketCase("nodeport-on-localhost", tcp(NODE, "127.0.0.1", "127.0.0.1", 30080),
                        dnat(true, "198.18.0.11:8080", "198.18.0.22:8080"))
                        .except(IPVS, Outcome.untouched(true), "IPVS mode never serves NodePorts on 127.0.0.1, as upstream's IPVS"
                                + " mode; KUBE-NODE-PORT still marks the packet (any local address, port in KUBE-NODE-PORT-TCP), which"
                                + " masquerades it to 127.0.0.1 on lo: no change")
                        .except(NFTABLES, Outcome.untouched(), "nftables mode never serves NodePorts on 127.0.0.1, as upstream's"
                                + " nftables mode (no route_localnet; KEP-3866)"),
                new PacketCase("nodeport-of-no-service", tcp(OUTSIDE, CLIENT, NODE_IP, 30099), Outcome.untouched()),
                new PacketCase("etp-local-from-outside", tcp(OUTSIDE, CLIENT, NODE_IP, 30081), dnat(false, "198.18.0.12:8080")),
                new PacketCase("etp-local-from-pod", tcp(POD, POD_IP, NODE_IP, 30081), dnat(false, "198.18.0.12:8080", "198.18.0.23:8080"))
                        .except(IPVS, dnat(false, "198.18.0.12:8080"), "IPVS has one real-server list per virtual server: no"
                                + " short-circuit of pod traffic to Cluster endpoints, as upstream's IPVS mode"),
                new PacketCase("etp-local-from-node", tcp(NODE, NODE_IP, NODE_IP, 30081),
                        dnat(true, "198.18.0.12:8080", "198.18.0.23:8080"))
                        .except(IPVS, dnat(false, "198.18.0.12:8080"), "IPVS has one real-server list per virtual server: the"
                                + " node's own traffic gets the local endpoints too, and reaches them unmasqueraded, as upstream's IPVS mode"),
                new PacketCase("etp-local-clusterip", tcp(POD, POD_IP, "198.19.0.3", 80),
                        dnat(false, "198.18.0.12:8080", "198.18.0.23:8080")),
                new PacketCase("etp-local-without-local-endpoints", tcp(OUTSIDE, CLIENT, NODE_IP, 30082), Outcome.drop())
                        .except(IPVS, Outcome.reject(), "a virtual server without real servers answers ICMP port unreachable"
                                + " (the kernel's ip_vs_leave), as upstream's IPVS mode"),
                new PacketCase("etp-local-without-local-endpoints-clusterip", tcp(POD, POD_IP, "198.19.0.4", 80),
                        dnat(false, "198.18.0.24:8080")),
                new PacketCase("health-check-node-port", tcp(OUTSIDE, CLIENT, NODE_IP, 32001), Outcome.accept())
                        .except(NFTABLES, Outcome.untouched(), "nftables mode writes no accept rule for health check node ports:"
                                + " nothing of its table drops them (iptables mode's accepts them ahead of the node's own firewall),"
                                + " as upstream's nftables mode"),
                new PacketCase("externalip-from-outside", tcp(OUTSIDE, CLIENT, "198.19.100.1", 80), dnat(true, "198.18.0.25:8080")),
                new PacketCase("externalip-from-pod", tcp(POD, POD_IP, "198.19.100.1", 80), dnat(true, "198.18.0.25:8080")),
                new PacketCase("externalip-etp-local-from-outside", tcp(OUTSIDE, CLIENT, "198.19.100.2", 80),
                        dnat(false, "198.18.0.14:8080")),
                new PacketCase("lb-allowed-source", tcp(OUTSIDE, CLIENT, "198.19.200.1", 443), dnat(true, "198.18.0.26:8443")),
                new PacketCase("lb-denied-source", tcp(OUTSIDE, DENIED_CLIENT, "198.19.200.1", 443), Outcome.drop()),
                new PacketCase("lb-nodeport-ignores-source-ranges", tcp(OUTSIDE, DENIED_CLIENT, NODE_IP, 30443),
                        dnat(true, "198.18.0.26:8443")),
                new PacketCase("lb-from-node-outside-source-ranges", tcp(NODE, NODE_IP, "198.19.200.1", 443), Outcome.drop()),
                new PacketCase("lb-from-node-inside-source-ranges", tcp(NODE, NODE_IP, "198.19.200.2", 443),
                        dnat(true, "198.18.0.32:8443")),
                new PacketCase("itp-local-from-pod", tcp(POD, POD_IP, "198.19.0.7", 80), dnat(false, "198.18.0.13:8080")),
                new PacketCase("no-endpoints-clusterip", tcp(POD, POD_IP, "198.19.0.8", 80), Outcome.reject()),
                new PacketCase("no-endpoints-nodeport", tcp(OUTSIDE, CLIENT, NODE_IP, 30088), Outcome.reject()),
                new PacketCase("no-endpoints-externalip", tcp(OUTSIDE, CLIENT, "198.19.100.3", 80), Outcome.reject()),
                new PacketCase("lb-etp-local-from-outside", tcp(OUTSIDE, CLIENT, "198.19.200.3", 80), dnat(false, "198.18.0.16:8080")),
                new PacketCase("lb-etp-local-from-pod", tcp(POD, POD_IP, "198.19.200.3", 80),
                        dnat(false, "198.18.0.16:8080", "198.18.0.34:8080"))
                        .except(IPVS, dnat(false, "198.18.0.16:8080"), "IPVS has one real-server list per virtual server: no"
                                + " short-circuit of pod traffic to Cluster endpoints, as upstream's IPVS mode"),
                new PacketCase("externalip-etp-local-from-pod", tcp(POD, POD_IP, "198.19.100.2", 80),
                        dnat(false, "198.18.0.14:8080", "198.18.0.31:8080"))
                        .except(IPVS, dnat(false, "198.18.0.14:8080"), "IPVS has one real-server list per virtual server: no"
                                + " short-circuit of pod traffic to Cluster endpoints, as upstream's IPVS mode"),
                new PacketCase("udp-nodeport-from-outside", udp(OUTSIDE, CLIENT, NODE_IP, 30053), dnat(true, "198.18.0.35:5353")),
                new PacketCase("itp-local-from-node", tcp(NODE, NODE_IP, "198.19.0.7", 80), dnat(true, "198.18.0.13:8080")),
                new PacketCase("clientip-affinity", tcp(POD, POD_IP, "198.19.0.9", 80),
                        dnat(false, "198.18.0.28:8080", "198.18.0.29:8080").sticky(10800)));
        return new PacketScenario("services", false, services, cases);
    }

    /** masqueradeAll on: every packet to a ClusterIP is masqueraded, whatever its source. */
    static PacketScenario masqueradeAll() {
        return new PacketScenario("masquerade-all", true, List.of(web()), List.of(
                new PacketCase("masquerade-all-from-pod", tcp(POD, POD_IP, "198.19.0.1", 80), dnat(true, WEB_LOCAL, WEB_REMOTE)),
                new PacketCase("masquerade-all-hairpin", tcp(POD, "198.18.0.10", "198.19.0.1", 80), dnat(true, WEB_LOCAL, WEB_REMOTE)),
                new PacketCase("masquerade-all-from-outside", tcp(OUTSIDE, CLIENT, "198.19.0.1", 80), dnat(true, WEB_LOCAL, WEB_REMOTE))));
    }
}
