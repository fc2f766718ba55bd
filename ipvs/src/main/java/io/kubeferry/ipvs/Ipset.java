package io.kubeferry.ipvs;

import io.kubeferry.proxy.model.IpFamily;

import java.util.List;

/**
 * One of IPVS mode's ipsets: upstream's names and types, so either proxy recognises the other's sets.
 * Per-Service data lives in these sets, which keeps the iptables rules a fixed handful whatever the cluster size.
 */
record Ipset(String name, String type, String comment) {

    static final Ipset LOOP_BACK = new Ipset("KUBE-LOOP-BACK", "hash:ip,port,ip",
            "endpoints that reach themselves through a Service (hairpin)");
    static final Ipset CLUSTER_IP = new Ipset("KUBE-CLUSTER-IP", "hash:ip,port", "cluster IP + port");
    static final Ipset EXTERNAL_IP = new Ipset("KUBE-EXTERNAL-IP", "hash:ip,port", "external IP + port");
    static final Ipset EXTERNAL_IP_LOCAL = new Ipset("KUBE-EXTERNAL-IP-LOCAL", "hash:ip,port", "external IP + port, traffic policy Local");
    static final Ipset LOAD_BALANCER = new Ipset("KUBE-LOAD-BALANCER", "hash:ip,port", "load balancer ingress IP + port");
    static final Ipset LOAD_BALANCER_LOCAL = new Ipset("KUBE-LOAD-BALANCER-LOCAL", "hash:ip,port",
            "load balancer IP + port, traffic policy Local");
    static final Ipset LOAD_BALANCER_FW = new Ipset("KUBE-LOAD-BALANCER-FW", "hash:ip,port", "load balancer IP + port with source ranges");
    static final Ipset LOAD_BALANCER_SOURCE_IP = new Ipset("KUBE-LOAD-BALANCER-SOURCE-IP", "hash:ip,port,ip",
            "load balancer IP + port + allowed source IP");
    static final Ipset LOAD_BALANCER_SOURCE_CIDR = new Ipset("KUBE-LOAD-BALANCER-SOURCE-CIDR", "hash:ip,port,net",
            "load balancer IP + port + allowed source CIDR");
    static final Ipset NODE_PORT_TCP = new Ipset("KUBE-NODE-PORT-TCP", "bitmap:port", "TCP NodePorts");
    static final Ipset NODE_PORT_LOCAL_TCP = new Ipset("KUBE-NODE-PORT-LOCAL-TCP", "bitmap:port", "TCP NodePorts, traffic policy Local");
    static final Ipset NODE_PORT_UDP = new Ipset("KUBE-NODE-PORT-UDP", "bitmap:port", "UDP NodePorts");
    static final Ipset NODE_PORT_LOCAL_UDP = new Ipset("KUBE-NODE-PORT-LOCAL-UDP", "bitmap:port", "UDP NodePorts, traffic policy Local");
    static final Ipset NODE_PORT_SCTP = new Ipset("KUBE-NODE-PORT-SCTP-HASH", "hash:ip,port", "node IP + SCTP NodePort");
    static final Ipset NODE_PORT_LOCAL_SCTP = new Ipset("KUBE-NODE-PORT-LOCAL-SCTP-HASH", "hash:ip,port",
            "node IP + SCTP NodePort, traffic policy Local");
    static final Ipset HEALTH_CHECK_NODE_PORT = new Ipset("KUBE-HEALTH-CHECK-NODE-PORT", "bitmap:port", "health check node ports");
    /** Every address on kube-ipvs0: lets KUBE-IPVS-FILTER refuse ports that are no Service's. */
    static final Ipset IPVS_IPS = new Ipset("KUBE-IPVS-IPS", "hash:ip", "addresses on kube-ipvs0");

    static final List<Ipset> ALL = List.of(LOOP_BACK, CLUSTER_IP, EXTERNAL_IP, EXTERNAL_IP_LOCAL, LOAD_BALANCER,
            LOAD_BALANCER_LOCAL, LOAD_BALANCER_FW, LOAD_BALANCER_SOURCE_IP, LOAD_BALANCER_SOURCE_CIDR, NODE_PORT_TCP,
            NODE_PORT_LOCAL_TCP, NODE_PORT_UDP, NODE_PORT_LOCAL_UDP, NODE_PORT_SCTP, NODE_PORT_LOCAL_SCTP,
            HEALTH_CHECK_NODE_PORT, IPVS_IPS);

    /** The longest name ipset takes (IPSET_MAXNAMELEN 32, with the terminating NUL). */
    static final int MAX_NAME = 31;

    /** True for one of IPv4's sets (the names without a family, as upstream's IPv4 proxier has them). */
    static boolean ours(String name) {
        return ours(name, IpFamily.IPv4);
    }

    /** True for one of {@code family}'s sets: each family's instance sees and removes only its own. */
    static boolean ours(String name, IpFamily family) {
        return ALL.stream().anyMatch(s -> s.name(family).equals(name));
    }

    /** The set of {@code family} named {@code name} (that family's spelling), or null. */
    static Ipset named(String name, IpFamily family) {
        return ALL.stream().filter(s -> s.name(family).equals(name)).findFirst().orElse(null);
    }

    /**
     * The set's name in {@code family}: IPv4's as always; IPv6's as upstream's NewIPSet names them, {@code KUBE-}
     * becoming {@code KUBE-6-} (so both families' sets coexist in the one ipset namespace) and cut to 31 characters,
     * e.g. {@code KUBE-6-LOAD-BALANCER-SOURCE-CID}.
     */
    String name(IpFamily family) {
        if (family == IpFamily.IPv4 || !name.startsWith("KUBE-")) {
            return name;
        }
        String six = "KUBE-6-" + name.substring("KUBE-".length());
        return six.length() > MAX_NAME ? six.substring(0, MAX_NAME) : six;
    }

    /** The {@code ipset restore} line that creates IPv4's set (a no-op under -exist when it is already there). */
    String createLine() {
        return createLine(IpFamily.IPv4);
    }

    /** The {@code ipset restore} line that creates {@code family}'s set: a bitmap of ports has no family. */
    String createLine(IpFamily family) {
        String options = type.startsWith("bitmap:")
                ? "range 0-65535"
                : "family " + (family == IpFamily.IPv6 ? "inet6" : "inet") + " hashsize 1024 maxelem 65536";
        return "create " + name(family) + " " + type + " " + options;
    }
}
