package io.kubeferry.it.nft;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * Renders the benchmark's nftables programs as {@code nft -f} text in table {@code ip kube-proxy}, in
 * knftables' flat form (one command a line, as upstream's transactions are): the NAT skeleton of upstream's
 * nftables mode (base chains, {@code services} with the {@code service-ips} verdict map, {@code cluster-ips},
 * masquerading), one Service chain and one chain per endpoint, and the dispatch of {@link DispatchShape}.
 * Pure: the same fleet and shape always give the same text. It is measurement code, not the product's
 * renderer: the filter chains (reject, firewall, cluster-ips-check) are left out, as they are the same in
 * every shape.
 */
final class DispatchProgram {

    static final String TABLE = "ip kube-proxy";
    /** The pod CIDR of the test bed: sources outside it are masqueraded, as with upstream's clusterCIDR. */
    static final String CLUSTER_CIDR = "198.18.0.0/24";
    static final String MASQ_BIT = "0x00004000";
    /** Slots of one Service in the shared map; a power of two so the mark shape keeps the masquerade bit clear. */
    static final int SLOT_STRIDE = 1 << 15;

    private final DispatchShape shape;

    DispatchProgram(DispatchShape shape) {
        this.shape = shape;
    }

    /** The whole program, into a namespace without the table: chains and rules first, then map and set elements. */
    String full(List<BenchService> fleet) {
        StringBuilder out = new StringBuilder(fleet.size() * 1800);
        line(out, "add table " + TABLE + " { comment \"rules for kube-proxy\" ; }");
        chain(out, "mark-for-masquerade");
        rule(out, "mark-for-masquerade", "mark set mark or " + MASQ_BIT);
        chain(out, "masquerading");
        rule(out, "masquerading", "mark and " + MASQ_BIT + " == 0 return");
        rule(out, "masquerading", "mark set mark xor " + MASQ_BIT);
        rule(out, "masquerading", "masquerade fully-random");
        line(out, "add set " + TABLE + " cluster-ips { type ipv4_addr ; comment \"Active ClusterIPs\" ; }");
        line(out, "add map " + TABLE + " service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; "
                + "comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\" ; }");
        chain(out, "services");
        rule(out, "services", "ip daddr . meta l4proto . th dport vmap @service-ips");
        if (shape == DispatchShape.SHARED_MAP) {
            line(out, "add map " + TABLE + " service-endpoints { typeof numgen random mod 1 : verdict ; "
                    + "comment \"Service slot to endpoint chain\" ; }");
        } else if (shape == DispatchShape.SHARED_MAP_MARK) {
            line(out, "add map " + TABLE + " service-endpoints { typeof meta mark : verdict ; "
                    + "comment \"Service slot (in the mark) to endpoint chain\" ; }");
            chain(out, "service-dispatch");
            // The masquerade bit may have been set after the slot was written: it is not part of the key.
            rule(out, "service-dispatch", "meta mark and " + String.format("0x%08x", ~0x4000) + " vmap @service-endpoints");
        }
        for (BenchService service : fleet) {
            serviceChains(out, service);
        }
        // Numeric priorities (dstnat -100, srcnat 100): nft 1.0.6 refuses the name dstnat on the output hook.
        line(out, "add chain " + TABLE + " nat-prerouting { type nat hook prerouting priority -100 ; }");
        rule(out, "nat-prerouting", "jump services");
        line(out, "add chain " + TABLE + " nat-output { type nat hook output priority -100 ; }");
        rule(out, "nat-output", "jump services");
        line(out, "add chain " + TABLE + " nat-postrouting { type nat hook postrouting priority 100 ; }");
        rule(out, "nat-postrouting", "jump masquerading");
        // Elements last: binding a verdict map walks the elements it already has, so a shared map bound by
        // every Service chain loads 4x faster when it is still empty at each binding (measured: 7 s vs 28 s).
        if (shape.usesSharedMap()) {
            for (BenchService service : fleet) {
                line(out, "add element " + TABLE + " service-endpoints { " + slots(service) + " }");
            }
        }
        for (BenchService service : fleet) {
            line(out, "add element " + TABLE + " cluster-ips { " + service.vip() + " }");
            line(out, "add element " + TABLE + " service-ips { " + service.vip() + " . tcp . " + BenchService.PORT
                    + " : goto " + serviceChain(service) + " }");
        }
        return out.toString();
    }

    /**
     * The transaction a partial sync writes when {@code before}'s endpoints were all replaced ({@code after}, same
     * Service): the new endpoint chains, the new dispatch (the Service chain rewritten, or its slots in the shared
     * map replaced), the old endpoint chains flushed and deleted (kernel 6.2+ allows the delete in the same
     * transaction that drops the last reference; upstream defers it for older kernels).
     */
    String change(BenchService before, BenchService after) {
        if (before.id() != after.id()) {
            throw new IllegalArgumentException("a change keeps the Service: " + before.id() + " -> " + after.id());
        }
        StringBuilder out = new StringBuilder(4096);
        for (String ep : after.endpoints()) {
            endpointChain(out, after, ep);
        }
        if (shape.usesSharedMap()) {
            StringJoiner keys = new StringJoiner(", ");
            for (int slot = 0; slot < before.endpoints().size(); slot++) {
                keys.add(Integer.toString(offset(before) + slot));
            }
            line(out, "delete element " + TABLE + " service-endpoints { " + keys + " }");
            line(out, "add element " + TABLE + " service-endpoints { " + slots(after) + " }");
            if (before.endpoints().size() != after.endpoints().size()) {
                line(out, "flush chain " + TABLE + " " + serviceChain(after));
                dispatchRules(out, after);
            }
        } else {
            line(out, "flush chain " + TABLE + " " + serviceChain(after));
            dispatchRules(out, after);
        }
        for (String ep : before.endpoints()) {
            if (!after.endpoints().contains(ep)) {
                line(out, "flush chain " + TABLE + " " + endpointChain(before, ep));
                line(out, "delete chain " + TABLE + " " + endpointChain(before, ep));
            }
        }
        return out.toString();
    }

    /** Chains the full program holds: the skeleton plus one per Service and one per endpoint. */
    int chainCount(List<BenchService> fleet) {
        int chains = 6 + (shape == DispatchShape.SHARED_MAP_MARK ? 1 : 0);
        for (BenchService service : fleet) {
            chains += 1 + service.endpoints().size();
        }
        return chains;
    }

    static String serviceChain(BenchService service) {
        return "service-" + hash8(service.portName()) + "-" + service.portName();
    }

    static String endpointChain(BenchService service, String endpoint) {
        String suffix = service.portName() + "__" + endpoint + "/" + BenchService.TARGET_PORT;
        return "endpoint-" + hash8(suffix) + "-" + suffix;
    }

    private void serviceChains(StringBuilder out, BenchService service) {
        for (String ep : service.endpoints()) {
            endpointChain(out, service, ep);
        }
        chain(out, serviceChain(service));
        dispatchRules(out, service);
    }

    private void endpointChain(StringBuilder out, BenchService service, String ep) {
        String chain = endpointChain(service, ep);
        chain(out, chain);
        rule(out, chain, "ip saddr " + ep + " jump mark-for-masquerade");
        rule(out, chain, "meta l4proto tcp dnat to " + ep + ":" + BenchService.TARGET_PORT);
    }

    /** The Service chain's rules: upstream's masquerade rule for sources outside the cluster, then the dispatch. */
    private void dispatchRules(StringBuilder out, BenchService service) {
        String chain = serviceChain(service);
        String masquerade = "ip daddr " + service.vip() + " tcp dport " + BenchService.PORT + " ip saddr != "
                + CLUSTER_CIDR + " jump mark-for-masquerade";
        List<String> eps = new ArrayList<>();
        for (String ep : service.endpoints()) {
            eps.add(endpointChain(service, ep));
        }
        int n = eps.size();
        if (shape == DispatchShape.SHARED_MAP_MARK) {
            // The slot goes into the mark first: writing it would otherwise wipe the masquerade bit.
            rule(out, chain, "meta mark set numgen random mod " + n + " offset " + offset(service));
            rule(out, chain, masquerade);
            rule(out, chain, "goto service-dispatch");
            return;
        }
        rule(out, chain, masquerade);
        if (n == 1 && shape != DispatchShape.UPSTREAM_VMAP) {
            rule(out, chain, "goto " + eps.get(0));
            return;
        }
        switch (shape) {
            case UPSTREAM_VMAP, UPSTREAM_SINGLE_GOTO -> {
                StringJoiner map = new StringJoiner(" , ", "{ ", " }");
                for (int i = 0; i < n; i++) {
                    map.add(i + " : goto " + eps.get(i));
                }
                rule(out, chain, "numgen random mod " + n + " vmap " + map);
            }
            case CASCADE -> {
                for (int i = 0; i < n - 1; i++) {
                    rule(out, chain, "numgen random mod " + (n - i) + " 0 goto " + eps.get(i));
                }
                rule(out, chain, "goto " + eps.get(n - 1));
            }
            case SHARED_MAP -> rule(out, chain, "numgen random mod " + n + " offset " + offset(service)
                    + " vmap @service-endpoints");
            default -> throw new IllegalStateException("unhandled shape " + shape);
        }
    }

    private static String slots(BenchService service) {
        StringJoiner slots = new StringJoiner(", ");
        for (int i = 0; i < service.endpoints().size(); i++) {
            slots.add((offset(service) + i) + " : goto " + endpointChain(service, service.endpoints().get(i)));
        }
        return slots.toString();
    }

    private static int offset(BenchService service) {
        return (service.id() + 1) * SLOT_STRIDE;
    }

    /**
     * Eight base-32 characters standing in for upstream's base32(sha256(name))[:8]: the benchmark needs names of
     * upstream's length and uniqueness, not its exact hash (the product's renderer owns that).
     */
    private static String hash8(String name) {
        String h = Long.toString(Integer.toUnsignedLong(name.hashCode()) * 31 + name.length(), 32).toUpperCase();
        return (h + "AAAAAAAA").substring(0, 8);
    }

    private static void chain(StringBuilder out, String chain) {
        line(out, "add chain " + TABLE + " " + chain);
    }

    private static void rule(StringBuilder out, String chain, String rule) {
        line(out, "add rule " + TABLE + " " + chain + " " + rule);
    }

    private static void line(StringBuilder out, String line) {
        out.append(line).append('\n');
    }
}
