package io.kubeferry.proxy.testing;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Small builders for model values in tests of every module (shipped in the proxy test-jar). */
public final class Fixtures {

    public static final String NODE = "node-a";

    private Fixtures() {
    }

    public static ServicePortName name(String ns, String svc, String port, Protocol protocol) {
        return new ServicePortName(ns, svc, port, protocol);
    }

    /** A ready endpoint on another node. */
    public static Endpoint endpoint(String ip, int port) {
        return new Endpoint(ip, port, true, true, false, "node-b", "", Set.of(), Set.of(), false);
    }

    /** A ready endpoint on this node. */
    public static Endpoint localEndpoint(String ip, int port) {
        return new Endpoint(ip, port, true, true, false, NODE, "", Set.of(), Set.of(), true);
    }

    /** Starts a ClusterIP Service port; chain the with-methods for the rest. */
    public static PortBuilder port(String ns, String svc, String portName, Protocol protocol, String clusterIP, int port) {
        return new PortBuilder(name(ns, svc, portName, protocol), clusterIP, port);
    }

    /** A state with the given services and every endpoint usable for cluster and (local ones) local policy. */
    public static ProxyState state(ResolvedService... services) {
        TreeMap<ServicePortName, ResolvedService> map = new TreeMap<>();
        for (ResolvedService s : services) {
            map.put(s.name(), s);
        }
        return new ProxyState(NodeInfo.named(NODE), map, 1);
    }

    /** Mutable builder for a {@link ServicePort}; {@link #resolve} picks endpoints the simple way. */
    public static final class PortBuilder {

        private final ServicePortName name;
        private final String clusterIP;
        private final int port;
        private int nodePort;
        private final List<String> externalIPs = new ArrayList<>();
        private final List<String> lbIPs = new ArrayList<>();
        private final List<String> sourceRanges = new ArrayList<>();
        private boolean externalLocal;
        private boolean internalLocal;
        private int healthCheckNodePort;
        private int sticky;
        private final Map<String, String> options = new TreeMap<>();

        PortBuilder(ServicePortName name, String clusterIP, int port) {
            this.name = name;
            this.clusterIP = clusterIP;
            this.port = port;
        }

        public PortBuilder nodePort(int value) {
            nodePort = value;
            return this;
        }
        public PortBuilder externalIP(String ip) {
            externalIPs.add(ip);
            return this;
        }
        public PortBuilder loadBalancerIP(String ip) {
            lbIPs.add(ip);
            return this;
        }
        public PortBuilder sourceRange(String cidr) {
            sourceRanges.add(cidr);
            return this;
        }
        public PortBuilder externalLocal(int hcNodePort) {
            externalLocal = true;
            healthCheckNodePort = hcNodePort;
            return this;
        }
        public PortBuilder internalLocal() {
            internalLocal = true;
            return this;
        }
        public PortBuilder sticky(int seconds) {
            sticky = seconds;
            return this;
        }
        public PortBuilder option(String key, String value) {
            options.put(key, value);
            return this;
        }

        public ServicePort build() {
            return new ServicePort(name, clusterIP, port, nodePort, externalIPs, lbIPs, sourceRanges,
                    externalLocal, internalLocal, healthCheckNodePort, sticky, options);
        }

        /**
         * Resolves with simple endpoint choice: ready endpoints for cluster policy, ready local ones for
         * local policy (no topology, no terminating fallback). Enough for dataplane tests.
         */
        public ResolvedService resolve(Endpoint... endpoints) {
            ServicePort sp = build();
            List<Endpoint> all = List.of(endpoints);
            List<Endpoint> ready = all.stream().filter(Endpoint::ready).toList();
            List<Endpoint> cluster = sp.usesClusterEndpoints() ? ready : List.of();
            List<Endpoint> local = sp.usesLocalEndpoints() ? ready.stream().filter(Endpoint::local).toList() : List.of();
            return new ResolvedService(sp, all, cluster, local, !ready.isEmpty());
        }
    }
}
