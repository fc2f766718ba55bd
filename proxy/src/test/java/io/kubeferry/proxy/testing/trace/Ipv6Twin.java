package io.kubeferry.proxy.testing.trace;

import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;

import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The IPv6 twin of an IPv4 packet scenario: every address of its Services and packets replaced by its IPv6
 * counterpart from 2001:db8::/32, so both families are held to the same mode-neutral table. Where IPv6 behaves
 * differently by design (no NodePorts on {@code ::1}), {@link #expected} says so.
 *
 * <p>Address plan (each IPv4 block of the table has one IPv6 block; an address outside them fails, so a new row
 * with a new block must extend the plan): pods 198.18.0.N → 2001:db8::N (the cluster CIDR 198.18.0.0/24 →
 * 2001:db8::/64), the node's subnet 198.18.1.N → 2001:db8:2::N, clients 198.18.2.N → 2001:db8:3::N and
 * 198.18.3.N → 2001:db8:4::N, Service IPs 198.19.A.B → 2001:db8:1::A:B, loopback 127.0.0.1 → ::1. The digits are
 * kept as they are written (198.18.0.10 → 2001:db8::10), so a failure message reads like its IPv4 twin's.
 */
final class Ipv6Twin {

    /** The suffix of a twin's scenario and case names (case names stay unique across the table). */
    static final String SUFFIX = "-ipv6";

    private Ipv6Twin() {
    }

    static PacketScenario of(PacketScenario v4) {
        if (v4.family() != IpFamily.IPv4) {
            throw new IllegalArgumentException("scenario " + v4.name() + " is already " + v4.family());
        }
        List<ResolvedService> services = v4.services().stream().map(Ipv6Twin::service).toList();
        List<PacketCase> cases = v4.cases().stream().map(Ipv6Twin::packetCase).toList();
        return new PacketScenario(v4.name() + SUFFIX, v4.masqueradeAll(), services, cases, IpFamily.IPv6);
    }

    /** A literal IPv4 address of the table's plan, as its IPv6 twin (canonical form). */
    static String address(String v4) {
        if (v4.equals("127.0.0.1")) {
            return "::1";
        }
        String[] o = v4.split("\\.");
        if (o.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address of the packet table: " + v4);
        }
        String prefix = switch (o[0] + "." + o[1] + (o[0].equals("198") && o[1].equals("18") ? "." + o[2] : "")) {
            case "198.18.0" -> "2001:db8::";
            case "198.18.1" -> "2001:db8:2::";
            case "198.18.2" -> "2001:db8:3::";
            case "198.18.3" -> "2001:db8:4::";
            case "198.19" -> "2001:db8:1::" + o[2] + ":";
            default -> throw new IllegalArgumentException("no IPv6 twin for " + v4 + ": extend the packet table's address plan");
        };
        return Cidr.canonical(prefix + o[3]);
    }

    /** A /24 of the plan becomes a /64, a single address (/32) a /128. */
    static String cidr(String v4) {
        String[] parts = v4.split("/");
        return switch (parts[1]) {
            case "24" -> Cidr.canonical(address(parts[0])) + "/64";
            case "32" -> address(parts[0]) + "/128";
            default -> throw new IllegalArgumentException("no IPv6 twin for " + v4 + ": extend the packet table's address plan");
        };
    }

    /** {@code ip:port} → {@code [ip6]:port}, as upstream writes an IPv6 endpoint (Go's net.JoinHostPort). */
    static String hostPort(String v4) {
        int colon = v4.lastIndexOf(':');
        return "[" + address(v4.substring(0, colon)) + "]" + v4.substring(colon);
    }

    private static ResolvedService service(ResolvedService s) {
        ServicePort p = s.port();
        ServicePort port = new ServicePort(p.name(), address(p.clusterIP()), p.port(), p.nodePort(),
                p.externalIPs().stream().map(Ipv6Twin::address).toList(), p.loadBalancerIPs().stream().map(Ipv6Twin::address).toList(),
                p.loadBalancerSourceRanges().stream().map(Ipv6Twin::cidr).toList(), p.externalPolicyLocal(), p.internalPolicyLocal(),
                p.healthCheckNodePort(), p.stickyMaxAgeSeconds(), p.options());
        return new ResolvedService(port, endpoints(s.allEndpoints()), endpoints(s.clusterEndpoints()), endpoints(s.localEndpoints()),
                s.hasAnyEndpoints());
    }

    private static List<Endpoint> endpoints(List<Endpoint> v4) {
        return v4.stream().map(e -> new Endpoint(address(e.ip()), e.port(), e.ready(), e.serving(), e.terminating(), e.nodeName(),
                e.zone(), e.zoneHints(), e.nodeHints(), e.local())).sorted(java.util.Comparator.comparing(Endpoint::hostPort)).toList();
    }

    private static PacketCase packetCase(PacketCase c) {
        Packet p = c.packet();
        Packet packet = new Packet(address(p.source()), address(p.destination()), p.protocol(), p.port(), p.origin());
        PacketCase twin = new PacketCase(c.name() + SUFFIX, packet, outcome(c.expected()), Map.of());
        for (Map.Entry<String, PacketCase.ModeOutcome> mode : c.modes().entrySet()) {
            twin = twin.except(mode.getKey(), outcome(mode.getValue().outcome()), mode.getValue().why());
        }
        return expected(twin);
    }

    /**
     * Where IPv6 differs by design. NodePorts never answer on {@code ::1}: route_localnet, which lets the kernel
     * route a DNATed loopback packet, exists for IPv4 only, so upstream's iptables mode writes
     * {@code ! -d ::1/128} on the KUBE-NODEPORTS jump (and nftables mode has no localhost NodePorts at all).
     */
    private static PacketCase expected(PacketCase twin) {
        if (!twin.name().equals("nodeport-on-localhost" + SUFFIX)) {
            return twin;
        }
        PacketCase out = new PacketCase(twin.name(), twin.packet(), Outcome.untouched(), Map.of());
        PacketCase.ModeOutcome ipvs = twin.modes().get(PacketCases.IPVS);
        return ipvs == null ? out : out.except(PacketCases.IPVS, ipvs.outcome(), ipvs.why());
    }

    private static Outcome outcome(Outcome v4) {
        SortedSet<PathEnd> ends = new TreeSet<>();
        for (PathEnd e : v4.ends()) {
            ends.add(new PathEnd(e.kind(), e.endpoint().isEmpty() ? "" : hostPort(e.endpoint()), e.masqueraded(), e.stickySeconds()));
        }
        return new Outcome(ends);
    }
}
