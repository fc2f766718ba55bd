package io.kubeferry.ipvs;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.testing.trace.NetfilterTracer;
import io.kubeferry.proxy.testing.trace.PacketScenario;
import io.kubeferry.proxy.testing.trace.PacketTable;
import io.kubeferry.proxy.testing.trace.PacketTracer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The shared packet table ({@code PacketCases}) through IPVS mode: each scenario is synced in full to a fresh
 * {@link FakeIpvsKernel}; packets walk the iptables rules IPVS mode writes (with its ipsets), and IPVS itself
 * (a virtual-server lookup that sends the packet to its real servers) acts where the kernel's IPVS hooks are.
 */
class IpvsPacketPathTest {

    /**
     * IPVS mode on {@code kernel}, made as the agent makes it (by mode name), for the scenario's family, with the
     * scenario's settings.
     */
    static Dataplane dataplane(PacketScenario scenario, FakeIpvsKernel kernel) {
        kernel.links.put("eth0", new TreeSet<>(List.of(scenario.nodeIP())));
        return DataplaneProvider.forMode("ipvs").create(
                new DataplaneContext(scenario.config("ipvs"), kernel, new SimpleMeterRegistry()).withFamily(scenario.family()));
    }

    static final Function<PacketScenario, PacketTracer> SYNCED = PacketTable.syncedFor(FakeIpvsKernel::new,
            IpvsPacketPathTest::dataplane, IpvsPacketPathTest::tracer);

    /**
     * IPVS mode's tracer for the scenario's family: the node's addresses (kube-ipvs0's included), that family's
     * iptables and ipsets (IPv6's KUBE-6-*) and the virtual servers.
     */
    static PacketTracer tracer(PacketScenario scenario, FakeIpvsKernel kernel) {
        Set<String> local = new HashSet<>();
        kernel.links.values().forEach(local::addAll);
        IpFamily family = scenario.family();
        return new NetfilterTracer("ipvs", family, kernel.netfilter, local, (set, flags, h) -> inSet(kernel, family, set, flags, h),
                (protocol, address, port) -> virtual(kernel, protocol, address, port));
    }

    /**
     * What {@code -m set --match-set SET FLAGS} looks up, by the set's type (upstream's types, from {@link Ipset});
     * a rule of one family matching on the other family's set fails.
     */
    static boolean inSet(FakeIpvsKernel kernel, IpFamily family, String set, String flags, NetfilterTracer.Headers h) {
        Ipset known = Ipset.named(set, family);
        if (known == null) {
            throw new IllegalStateException("rule matches on ipset " + set + ", which is no " + family + " set of IPVS mode");
        }
        String type = known.type();
        Set<String> members = kernel.ipsets.get(set);
        if (members == null) {
            throw new IllegalStateException("rule matches on ipset " + set + ", which the kernel does not have");
        }
        String ipPort = h.destination() + "," + h.protocol() + ":" + h.port();
        return switch (type + " " + flags) {
            case "hash:ip,port dst,dst" -> members.contains(ipPort);
            case "hash:ip,port,ip dst,dst,src" -> members.contains(ipPort + "," + h.source());
            case "hash:ip,port,net dst,dst,src" -> members.stream().anyMatch(m -> m.startsWith(ipPort + ",")
                    && Cidr.parse(m.substring(ipPort.length() + 1)).contains(h.source()));
            case "bitmap:port dst" -> members.contains(Integer.toString(h.port()));
            case "hash:ip dst" -> members.contains(h.destination());
            default -> throw new IllegalStateException("set match " + set + " (" + type + ") " + flags + " not understood");
        };
    }

    /** The virtual server for a destination, with the real servers that take new connections (weight above 0). */
    static NetfilterTracer.VirtualServers.Virtual virtual(FakeIpvsKernel kernel, String protocol, String address, int port) {
        String flag = switch (protocol) {
            case "tcp" -> "-t";
            case "udp" -> "-u";
            case "sctp" -> "--sctp-service";
            default -> throw new IllegalArgumentException(protocol);
        };
        String key = flag + " " + IpvsDiff.hostPort(address, port);
        String service = kernel.services.get(key);
        if (service == null) {
            return null;
        }
        List<String> words = List.of(service.split("\\s+"));
        int p = words.indexOf("-p");
        int persistence = p < 0 ? 0 : Integer.parseInt(words.get(p + 1));
        List<String> reals = new ArrayList<>();
        for (Map.Entry<String, String> real : kernel.reals.getOrDefault(key, Map.of()).entrySet()) {
            List<String> r = List.of(real.getValue().split("\\s+"));
            if (Integer.parseInt(r.get(r.indexOf("-w") + 1)) > 0) {
                reals.add(real.getKey());
            }
        }
        return new NetfilterTracer.VirtualServers.Virtual(reals, persistence);
    }

    /** The node's own packets to a load balancer IP its loadBalancerSourceRanges do not allow (k/k#119656). */
    static final String NODE_TO_LB_OUTSIDE_RANGES = "lb-from-node-outside-source-ranges";

    @TestFactory
    Stream<DynamicContainer> everyPacketOfTheTable() {
        return PacketTable.tests(SYNCED, Set.of());
    }

    /**
     * The node's packets to a load balancer IP take nat OUTPUT, IPVS and filter OUTPUT only, never the source-range
     * firewall (INPUT/FORWARD): KUBE-IPVS-OUT-FILTER drops them when no range contains the node IP, as upstream.
     */
    @Test
    void theNodeIsHeldToTheLoadBalancerSourceRanges() {
        PacketTable.check(Set.of(NODE_TO_LB_OUTSIDE_RANGES), SYNCED);
    }
}
