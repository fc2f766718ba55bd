package io.kubeferry.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * kube-ferry's effective configuration: a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) with
 * flags applied on top, validated and defaulted. Field names follow upstream so operators recognise them.
 *
 * @param mode               "iptables" or "ipvs"
 * @param hostnameOverride   the node name ("" = the host name)
 * @param kubeconfig         path of a kubeconfig ("" = in-cluster config, else the usual default chain)
 * @param healthzBindAddress host:port for /healthz and /livez ("" disables)
 * @param metricsBindAddress host:port for /metrics ("" disables)
 * @param clusterCIDRs       pod CIDRs for detectLocalMode ClusterCIDR (empty = no local detection)
 * @param nodePortAddresses  CIDRs (or the keywords primary/localhost/all) NodePorts are opened on; empty = all
 * @param serviceProxyName   Services labelled service.kubernetes.io/service-proxy-name are served only when
 *                           the label equals this ("" = serve only unlabelled Services, as upstream)
 * @param netns              kube-ferry's own: program the named network namespace instead of the current one
 * @param configSyncPeriod   informer resync period
 * @param iptables           the iptables section
 * @param ipvs               the ipvs section
 * @param conntrack          the conntrack section
 * @param clientConnection   clientConnection's settings besides the kubeconfig
 * @param logging            the logging section's format and verbosity
 * @param featureGates       featureGates as given (kube-ferry has none of upstream's gates: they are reported)
 * @param oomScoreAdj        the process's oom_score_adj (upstream's default -999)
 * @param detectLocalMode    how local traffic is detected (kube-ferry implements ClusterCIDR)
 * @param master             kube-ferry's own: --master, the API server URL overriding the kubeconfig's ("" = none)
 * @param unused             upstream fields kube-ferry accepts but does not act on, set to other than their
 *                           default: dotted path to the value's text (e.g. {@code enableProfiling -> true})
 */
public record ProxyConfig(
        String mode,
        String hostnameOverride,
        String kubeconfig,
        String healthzBindAddress,
        String metricsBindAddress,
        List<String> clusterCIDRs,
        List<String> nodePortAddresses,
        String serviceProxyName,
        String netns,
        Duration configSyncPeriod,
        Iptables iptables,
        Ipvs ipvs,
        Conntrack conntrack,
        ClientConnection clientConnection,
        Logging logging,
        Map<String, Boolean> featureGates,
        int oomScoreAdj,
        String detectLocalMode,
        String master,
        Map<String, String> unused) {

    public ProxyConfig {
        Objects.requireNonNull(mode, "mode");
        clusterCIDRs = List.copyOf(clusterCIDRs);
        nodePortAddresses = List.copyOf(nodePortAddresses);
        // Sorted, so the written config and the warnings list them in a stable order.
        featureGates = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(featureGates));
        unused = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(unused));
    }

    /**
     * @param masqueradeAll      SNAT all traffic sent via Service cluster IPs
     * @param masqueradeBit      the fwmark bit marking packets for SNAT (default 14 = 0x4000)
     * @param localhostNodePorts allow NodePorts on 127.0.0.1 (sets route_localnet)
     * @param syncPeriod         full resync period
     * @param minSyncPeriod      minimum time between syncs (bursts are coalesced)
     */
    public record Iptables(boolean masqueradeAll, int masqueradeBit, boolean localhostNodePorts,
                           Duration syncPeriod, Duration minSyncPeriod) {

        /** The masquerade mark as upstream prints it, e.g. {@code 0x4000}. */
        public String masqueradeMark() {
            return String.format("0x%x", 1 << masqueradeBit);
        }
    }

    /**
     * @param scheduler     global IPVS scheduler ("" = rr)
     * @param syncPeriod    full resync period
     * @param minSyncPeriod minimum time between syncs
     * @param excludeCIDRs  CIDRs whose IPVS services kube-ferry never touches
     * @param strictARP     set arp_ignore=1 / arp_announce=2
     * @param tcpTimeout    IPVS TCP timeout (0 = keep the system value)
     * @param tcpFinTimeout IPVS TCP FIN timeout (0 = keep)
     * @param udpTimeout    IPVS UDP timeout (0 = keep)
     */
    public record Ipvs(String scheduler, Duration syncPeriod, Duration minSyncPeriod, List<String> excludeCIDRs,
                       boolean strictARP, Duration tcpTimeout, Duration tcpFinTimeout, Duration udpTimeout) {
        public Ipvs {
            excludeCIDRs = List.copyOf(excludeCIDRs);
        }
    }

    /**
     * @param maxPerCore            conntrack entries per core (0 = leave the limit alone)
     * @param min                   lower bound of the computed limit
     * @param tcpEstablishedTimeout nf_conntrack_tcp_timeout_established (0 = leave)
     * @param tcpCloseWaitTimeout   nf_conntrack_tcp_timeout_close_wait (0 = leave)
     * @param tcpBeLiberal          set nf_conntrack_tcp_be_liberal to 1 (false = leave)
     * @param udpTimeout            nf_conntrack_udp_timeout (0 = leave)
     * @param udpStreamTimeout      nf_conntrack_udp_timeout_stream (0 = leave)
     */
    public record Conntrack(int maxPerCore, int min, Duration tcpEstablishedTimeout, Duration tcpCloseWaitTimeout,
                            boolean tcpBeLiberal, Duration udpTimeout, Duration udpStreamTimeout) {
    }

    /**
     * @param contentType the content type asked of the API server (upstream: protobuf)
     * @param qps         upstream client-go's request rate limit
     * @param burst       upstream client-go's request burst
     */
    public record ClientConnection(String contentType, float qps, int burst) {
    }

    /**
     * @param format    "text" or "json" (one JSON object per line)
     * @param verbosity klog's -v: 0-1 INFO, 2-3 more of kube-ferry's own, 4 and up DEBUG
     */
    public record Logging(String format, int verbosity) {
    }

    /** Upstream's defaults, iptables mode. */
    public static ProxyConfig defaults() {
        return new ProxyConfig(
                "iptables", "", "", "0.0.0.0:10256", "127.0.0.1:10249",
                List.of(), List.of(), "", "", Duration.ofMinutes(15),
                new Iptables(false, 14, true, Duration.ofSeconds(30), Duration.ofSeconds(1)),
                new Ipvs("", Duration.ofSeconds(30), Duration.ZERO, List.of(), false,
                        Duration.ZERO, Duration.ZERO, Duration.ZERO),
                new Conntrack(32768, 131072, Duration.ofHours(24), Duration.ofHours(1), false, Duration.ZERO, Duration.ZERO),
                new ClientConnection("application/vnd.kubernetes.protobuf", 5, 10),
                new Logging("text", 0), Map.of(), -999, "ClusterCIDR", "", Map.of());
    }

    /** The sync period of the active mode. */
    public Duration syncPeriod() {
        return "ipvs".equals(mode) ? ipvs.syncPeriod() : iptables.syncPeriod();
    }

    /** The minimum sync period of the active mode. */
    public Duration minSyncPeriod() {
        return "ipvs".equals(mode) ? ipvs.minSyncPeriod() : iptables.minSyncPeriod();
    }

    public ProxyConfig withMode(String value) {
        return with(b -> b.mode = value);
    }

    public ProxyConfig withHostnameOverride(String value) {
        return with(b -> b.hostnameOverride = value);
    }

    public ProxyConfig withKubeconfig(String value) {
        return with(b -> b.kubeconfig = value);
    }

    public ProxyConfig withBindAddresses(String healthz, String metrics) {
        return with(b -> {
            b.healthzBindAddress = healthz;
            b.metricsBindAddress = metrics;
        });
    }

    public ProxyConfig withClusterCIDRs(List<String> value) {
        return with(b -> b.clusterCIDRs = value);
    }

    public ProxyConfig withNodePortAddresses(List<String> value) {
        return with(b -> b.nodePortAddresses = value);
    }

    public ProxyConfig withServiceProxyName(String value) {
        return with(b -> b.serviceProxyName = value);
    }

    public ProxyConfig withNetns(String value) {
        return with(b -> b.netns = value);
    }

    public ProxyConfig withIptables(Iptables value) {
        return with(b -> b.iptables = value);
    }

    public ProxyConfig withIpvs(Ipvs value) {
        return with(b -> b.ipvs = value);
    }

    public ProxyConfig withConfigSyncPeriod(Duration value) {
        return with(b -> b.configSyncPeriod = value);
    }

    public ProxyConfig withConntrack(Conntrack value) {
        return with(b -> b.conntrack = value);
    }

    public ProxyConfig withClientConnection(ClientConnection value) {
        return with(b -> b.clientConnection = value);
    }

    public ProxyConfig withLogging(Logging value) {
        return with(b -> b.logging = value);
    }

    public ProxyConfig withFeatureGates(Map<String, Boolean> value) {
        return with(b -> b.featureGates = value);
    }

    public ProxyConfig withOomScoreAdj(int value) {
        return with(b -> b.oomScoreAdj = value);
    }

    public ProxyConfig withDetectLocalMode(String value) {
        return with(b -> b.detectLocalMode = value);
    }

    public ProxyConfig withMaster(String value) {
        return with(b -> b.master = value);
    }

    /** Adds (or replaces) accepted-but-unused fields, by dotted path. */
    public ProxyConfig withUnused(Map<String, String> values) {
        Map<String, String> merged = new TreeMap<>(unused);
        merged.putAll(values);
        return with(b -> b.unused = merged);
    }

    private ProxyConfig with(java.util.function.Consumer<Copy> change) {
        Copy copy = new Copy(this);
        change.accept(copy);
        return copy.build();
    }

    /** A mutable copy, so each with-method names only the field it changes. */
    private static final class Copy {
        String mode;
        String hostnameOverride;
        String kubeconfig;
        String healthzBindAddress;
        String metricsBindAddress;
        List<String> clusterCIDRs;
        List<String> nodePortAddresses;
        String serviceProxyName;
        String netns;
        Duration configSyncPeriod;
        Iptables iptables;
        Ipvs ipvs;
        Conntrack conntrack;
        ClientConnection clientConnection;
        Logging logging;
        Map<String, Boolean> featureGates;
        int oomScoreAdj;
        String detectLocalMode;
        String master;
        Map<String, String> unused;

        Copy(ProxyConfig c) {
            mode = c.mode;
            hostnameOverride = c.hostnameOverride;
            kubeconfig = c.kubeconfig;
            healthzBindAddress = c.healthzBindAddress;
            metricsBindAddress = c.metricsBindAddress;
            clusterCIDRs = c.clusterCIDRs;
            nodePortAddresses = c.nodePortAddresses;
            serviceProxyName = c.serviceProxyName;
            netns = c.netns;
            configSyncPeriod = c.configSyncPeriod;
            iptables = c.iptables;
            ipvs = c.ipvs;
            conntrack = c.conntrack;
            clientConnection = c.clientConnection;
            logging = c.logging;
            featureGates = c.featureGates;
            oomScoreAdj = c.oomScoreAdj;
            detectLocalMode = c.detectLocalMode;
            master = c.master;
            unused = c.unused;
        }

        ProxyConfig build() {
            return new ProxyConfig(mode, hostnameOverride, kubeconfig, healthzBindAddress, metricsBindAddress, clusterCIDRs,
                    nodePortAddresses, serviceProxyName, netns, configSyncPeriod, iptables, ipvs, conntrack,
                    clientConnection, logging, featureGates, oomScoreAdj, detectLocalMode, master, unused);
        }
    }

    /** Sets the sync periods of both modes (tests and benchmarks use short ones). */
    public ProxyConfig withSyncPeriods(Duration sync, Duration min) {
        return withIptables(new Iptables(iptables.masqueradeAll(), iptables.masqueradeBit(), iptables.localhostNodePorts(), sync, min))
                .withIpvs(new Ipvs(ipvs.scheduler(), sync, min, ipvs.excludeCIDRs(), ipvs.strictARP(), ipvs.tcpTimeout(),
                        ipvs.tcpFinTimeout(), ipvs.udpTimeout()));
    }
}
