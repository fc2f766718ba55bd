package io.kubeferry.proxy.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * kube-ferry's effective configuration and, in one, the KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1)
 * schema: every component is the upstream field of the same name, bound by Jackson ({@link ConfigBinding}) for the
 * file, the flags, {@code --write-config-to} and {@code /configz}. An unknown field is an error naming its path.
 * Defaults are {@link #defaults()}; checks are {@link KubeProxyConfigurationLoader#validate}. Fields marked
 * {@link NotApplied} are accepted (and typed, and written back) but not acted on: {@link #unused()} lists those set
 * to other than the default so start-up can warn. kube-ferry's own settings ({@link Own}) are not document fields.
 *
 * @param mode               the dataplane: one a registered DataplaneProvider names (it reads the section of that name)
 * @param hostnameOverride   the node name ("" = the host name)
 * @param healthzBindAddress host:port for /healthz and /livez ("" disables)
 * @param metricsBindAddress host:port for /metrics ("" disables)
 * @param clusterCIDR        pod CIDRs, comma-separated, for detectLocalMode ClusterCIDR ("" = no local detection)
 * @param nodePortAddresses  CIDRs (or the keywords primary/localhost/all) NodePorts are opened on; empty = all
 * @param configSyncPeriod   informer resync period
 * @param featureGates       featureGates as given (kube-ferry has none of upstream's gates: they are reported)
 * @param oomScoreAdj        the process's oom_score_adj (upstream's default -999)
 * @param detectLocalMode    how local traffic is detected (kube-ferry implements ClusterCIDR)
 * @param own                kube-ferry's own settings, from its own flags
 */
public record ProxyConfig(
        @NotApplied String bindAddress,
        @NotApplied boolean bindAddressHardFail,
        ClientConnection clientConnection,
        String clusterCIDR,
        Duration configSyncPeriod,
        Conntrack conntrack,
        @NotApplied DetectLocal detectLocal,
        String detectLocalMode,
        @NotApplied boolean enableProfiling,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Boolean> featureGates,
        String healthzBindAddress,
        String hostnameOverride,
        Iptables iptables,
        Ipvs ipvs,
        Logging logging,
        String metricsBindAddress,
        String mode,
        Nftables nftables,
        List<String> nodePortAddresses,
        int oomScoreAdj,
        @NotApplied String portRange,
        @NotApplied String showHiddenMetricsForVersion,
        @NotApplied Winkernel winkernel,
        @NotApplied @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean windowsRunAsService,
        @JsonIgnore Own own) {

    public ProxyConfig {
        Objects.requireNonNull(mode, "mode");
        clusterCIDR = String.join(",", KubeProxyConfigurationLoader.splitCIDRs(clusterCIDR));
        nodePortAddresses = List.copyOf(nodePortAddresses);
        // Left out of the document when empty; sorted, so the written config and the warnings list them in a stable order.
        featureGates = Collections.unmodifiableSortedMap(featureGates == null ? new TreeMap<>() : new TreeMap<>(featureGates));
        own = own == null ? Own.NONE : own;
    }

    /**
     * @param serviceProxyName Services labelled service.kubernetes.io/service-proxy-name are served only when the
     *                         label equals this ("" = serve only unlabelled Services, as upstream)
     * @param netns            program the named network namespace instead of the current one
     * @param master           --master, the API server URL overriding the kubeconfig's ("" = none)
     * @param scheduler        --scheduler, the algorithm Services without a kube-ferry.io/scheduler annotation get
     *                         ("" = the mode's default: random in iptables and nftables mode, ipvs.scheduler in IPVS
     *                         mode); one the mode cannot express falls back to the mode's default with a log line
     * @param hashTableSize    --maglev-table-size, the slot count M of consistent-hash tables (a prime up to 16381;
     *                         every node of a cluster must use the same)
     * @param conntrackHooks   how the conntrack hooks run
     */
    public record Own(String serviceProxyName, String netns, String master, String scheduler, int hashTableSize,
            ConntrackHookSettings conntrackHooks) {

        /**
         * M when none is given: a prime, small because iptables mode writes up to M rules per maglev Service, and
         * large enough (M at least 100 N) that one endpoint leaving moves under 1.5/N of clients up to N = 10
         * (MaglevTableTest prints the grid; 251 does so only up to N = 5).
         */
        public static final int DEFAULT_HASH_TABLE_SIZE = 1021;

        static final Own NONE = new Own("", "", "");

        public Own {
            conntrackHooks = conntrackHooks == null ? ConntrackHookSettings.DEFAULTS : conntrackHooks;
        }

        public Own(String serviceProxyName, String netns, String master) {
            this(serviceProxyName, netns, master, "", DEFAULT_HASH_TABLE_SIZE, ConntrackHookSettings.DEFAULTS);
        }
    }

    /**
     * kube-ferry's conntrack hook settings (flags only, like the rest of {@link Own}: no KubeProxyConfiguration field).
     *
     * @param timeLimit   how long one hook call may take before it is counted as failed and interrupted
     * @param flushTcp    delete the TCP conntrack entries of removed (not terminating) endpoints of every Service,
     *                    not only of those annotated {@code kube-ferry.io/conntrack-flush-tcp: "true"} (an annotation
     *                    {@code "false"} still opts a Service out)
     * @param countPeriod how often the per-Service conntrack entry counts are read (zero: never)
     */
    public record ConntrackHookSettings(Duration timeLimit, boolean flushTcp, Duration countPeriod) {

        public static final ConntrackHookSettings DEFAULTS = new ConntrackHookSettings(Duration.ofSeconds(30), false,
                Duration.ofSeconds(60));

        public ConntrackHookSettings {
            Objects.requireNonNull(timeLimit, "timeLimit");
            Objects.requireNonNull(countPeriod, "countPeriod");
        }
    }

    /** The settings every dataplane's section has (upstream: iptables, ipvs and nftables each carry them). */
    interface ModeSection {

        Duration syncPeriod();

        Duration minSyncPeriod();

        /** The section with a mode's defaults in place of what was left unset (a zero that means "not set"). */
        default ModeSection defaulted() {
            return this;
        }
    }

    /**
     * @param masqueradeAll      SNAT all traffic sent via Service cluster IPs
     * @param masqueradeBit      the fwmark bit marking packets for SNAT (default 14 = 0x4000)
     * @param localhostNodePorts allow NodePorts on 127.0.0.1 (sets route_localnet)
     * @param syncPeriod         full resync period
     * @param minSyncPeriod      minimum time between syncs (bursts are coalesced)
     */
    public record Iptables(boolean masqueradeAll, int masqueradeBit, boolean localhostNodePorts,
            Duration syncPeriod, Duration minSyncPeriod) implements ModeSection {

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
            boolean strictARP, Duration tcpTimeout, Duration tcpFinTimeout, Duration udpTimeout) implements ModeSection {

        public Ipvs {
            excludeCIDRs = List.copyOf(excludeCIDRs);
        }
    }

    /**
     * nftables mode's section, as upstream's. Its periods are written 0s while another mode runs (what kube-proxy
     * writes for an inactive mode's section); a 0s period, written or given, is upstream's default (30s, 1s).
     *
     * @param masqueradeAll SNAT all traffic sent via Service cluster IPs
     * @param masqueradeBit the fwmark bit marking packets for SNAT (default 14 = 0x4000)
     * @param minSyncPeriod minimum time between syncs (bursts are coalesced); 0s = 1s
     * @param syncPeriod    full resync period; 0s = 30s
     */
    public record Nftables(boolean masqueradeAll, int masqueradeBit, Duration minSyncPeriod, Duration syncPeriod)
            implements
                ModeSection {

        @Override
        public ModeSection defaulted() {
            return new Nftables(masqueradeAll, masqueradeBit, minSyncPeriod.isZero() ? Duration.ofSeconds(1) : minSyncPeriod,
                    syncPeriod.isZero() ? Duration.ofSeconds(30) : syncPeriod);
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
     * @param kubeconfig  path of a kubeconfig ("" = in-cluster config, else the usual default chain)
     * @param contentType the content type asked of the API server (upstream: protobuf)
     * @param qps         upstream client-go's request rate limit
     * @param burst       upstream client-go's request burst
     */
    public record ClientConnection(@NotApplied String acceptContentTypes, int burst, String contentType,
            String kubeconfig, float qps) {
    }

    /**
     * @param format    "text" or "json" (one JSON object per line)
     * @param verbosity klog's -v: 0-1 INFO, 2-3 more of kube-ferry's own, 4 and up DEBUG
     */
    public record Logging(@NotApplied Duration flushFrequency, String format, @NotApplied Options options, int verbosity,
            @NotApplied @JsonInclude(JsonInclude.Include.NON_EMPTY) List<VModule> vmodule) {

        public Logging {
            vmodule = vmodule == null ? List.of() : List.copyOf(vmodule); // left out of the document when empty
        }

        /** The two settings kube-ferry acts on; the rest at upstream's defaults. */
        public Logging(String format, int verbosity) {
            this(Duration.ofSeconds(5), format, Options.DEFAULT, verbosity, List.of());
        }

        public record Options(Format json, Format text) {

            static final Options DEFAULT = new Options(new Format("0", false), new Format("0", false));
        }

        public record Format(String infoBufferSize, @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean splitStream) {
        }

        public record VModule(String filePattern, int verbosity) {
        }
    }

    public record DetectLocal(String bridgeInterface, String interfaceNamePrefix) {
    }

    public record Winkernel(boolean enableDSR, boolean forwardHealthCheckVip, String networkName,
            String rootHnsEndpointName, String sourceVip) {
    }

    /** Upstream's defaults, as kube-proxy 1.35 writes them, with mode iptables. The one place defaults are. */
    public static ProxyConfig defaults() {
        return DEFAULTS;
    }

    private static final ProxyConfig DEFAULTS = new ProxyConfig("0.0.0.0", false,
            new ClientConnection("", 10, "application/vnd.kubernetes.protobuf", "", 5),
            "", Duration.ofMinutes(15),
            new Conntrack(32768, 131072, Duration.ofHours(24), Duration.ofHours(1), false, Duration.ZERO, Duration.ZERO),
            new DetectLocal("", ""), "ClusterCIDR", false, Map.of(), "0.0.0.0:10256", "",
            new Iptables(false, 14, true, Duration.ofSeconds(30), Duration.ofSeconds(1)),
            new Ipvs("", Duration.ofSeconds(30), Duration.ZERO, List.of(), false, Duration.ZERO, Duration.ZERO, Duration.ZERO),
            new Logging("text", 0), "127.0.0.1:10249", "iptables",
            new Nftables(false, 14, Duration.ZERO, Duration.ZERO),
            List.of(), -999, "", "", new Winkernel(false, false, "", "", ""), false, Own.NONE);

    /** path of a kubeconfig ("" = in-cluster config, else the usual default chain) */
    public String kubeconfig() {
        return clientConnection.kubeconfig();
    }

    /** {@link #clusterCIDR} as a list. */
    public List<String> clusterCIDRs() {
        return KubeProxyConfigurationLoader.splitCIDRs(clusterCIDR);
    }

    /**
     * The pod CIDR of {@code family} from {@link #clusterCIDR} (a comma-separated dual-stack pair is allowed, as
     * upstream), or "" when none is of that family: what detectLocalMode ClusterCIDR matches in that family.
     */
    public String clusterCIDR(io.kubeferry.proxy.model.IpFamily family) {
        return clusterCIDRs().stream().filter(family::matches).findFirst().orElse("");
    }

    public String serviceProxyName() {
        return own.serviceProxyName();
    }

    public String netns() {
        return own.netns();
    }

    public String master() {
        return own.master();
    }

    public ConntrackHookSettings conntrackHooks() {
        return own.conntrackHooks();
    }

    /**
     * Upstream fields kube-ferry accepts but does not act on, set to other than their default: dotted path to the
     * value's text (e.g. {@code enableProfiling -> true}), sorted.
     */
    public Map<String, String> unused() {
        return ConfigBinding.unused(this);
    }

    /** The sync period of the active mode (from the section named as the mode). */
    public Duration syncPeriod() {
        return ConfigBinding.modeSection(this, mode).defaulted().syncPeriod();
    }

    /** The minimum sync period of the active mode. */
    public Duration minSyncPeriod() {
        return ConfigBinding.modeSection(this, mode).defaulted().minSyncPeriod();
    }

    /**
     * Sets fields by their dotted KubeProxyConfiguration path ({@code iptables.masqueradeBit}) through the same
     * binding as the file, so a value is checked and defaulted as it would be there. Not validated: see
     * {@link KubeProxyConfigurationLoader#validate}.
     *
     * @throws ConfigException naming the path of a field that does not exist or a value that does not fit it
     */
    public ProxyConfig with(Map<String, ?> valuesByPath) throws ConfigException {
        return ConfigBinding.with(this, valuesByPath);
    }

    private ProxyConfig with(String path, Object value) {
        try {
            return with(Map.of(path, value));
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    public ProxyConfig withMode(String value) {
        return with("mode", value);
    }

    public ProxyConfig withHostnameOverride(String value) {
        return with("hostnameOverride", value);
    }

    public ProxyConfig withKubeconfig(String value) {
        return with("clientConnection.kubeconfig", value);
    }

    public ProxyConfig withBindAddresses(String healthz, String metrics) {
        return with("healthzBindAddress", healthz).with("metricsBindAddress", metrics);
    }

    public ProxyConfig withClusterCIDRs(List<String> value) {
        return with("clusterCIDR", String.join(",", value));
    }

    public ProxyConfig withNodePortAddresses(List<String> value) {
        return with("nodePortAddresses", value);
    }

    public ProxyConfig withIptables(Iptables value) {
        return with("iptables", value);
    }

    public ProxyConfig withIpvs(Ipvs value) {
        return with("ipvs", value);
    }

    public ProxyConfig withConfigSyncPeriod(Duration value) {
        return with("configSyncPeriod", value);
    }

    public ProxyConfig withConntrack(Conntrack value) {
        return with("conntrack", value);
    }

    public ProxyConfig withClientConnection(ClientConnection value) {
        return with("clientConnection", value);
    }

    public ProxyConfig withLogging(Logging value) {
        return with("logging", value);
    }

    public ProxyConfig withFeatureGates(Map<String, Boolean> value) {
        return with("featureGates", value);
    }

    public ProxyConfig withOomScoreAdj(int value) {
        return with("oomScoreAdj", value);
    }

    public ProxyConfig withDetectLocalMode(String value) {
        return with("detectLocalMode", value);
    }

    /** Sets the sync periods of every mode's section (tests and benchmarks use short ones). */
    public ProxyConfig withSyncPeriods(Duration sync, Duration min) {
        Map<String, Object> periods = new TreeMap<>();
        for (String section : ConfigBinding.modeSections()) {
            periods.put(section + ".syncPeriod", sync);
            periods.put(section + ".minSyncPeriod", min);
        }
        try {
            return with(periods);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    public ProxyConfig withOwn(Own value) {
        return new ProxyConfig(bindAddress, bindAddressHardFail, clientConnection, clusterCIDR, configSyncPeriod, conntrack,
                detectLocal, detectLocalMode, enableProfiling, featureGates, healthzBindAddress, hostnameOverride, iptables,
                ipvs, logging, metricsBindAddress, mode, nftables, nodePortAddresses, oomScoreAdj, portRange,
                showHiddenMetricsForVersion, winkernel, windowsRunAsService, value);
    }

    public ProxyConfig withServiceProxyName(String value) {
        return withOwn(new Own(value, own.netns(), own.master(), own.scheduler(), own.hashTableSize(),
                own.conntrackHooks()));
    }

    public ProxyConfig withNetns(String value) {
        return withOwn(new Own(own.serviceProxyName(), value, own.master(), own.scheduler(), own.hashTableSize(),
                own.conntrackHooks()));
    }

    public ProxyConfig withMaster(String value) {
        return withOwn(new Own(own.serviceProxyName(), own.netns(), value, own.scheduler(), own.hashTableSize(),
                own.conntrackHooks()));
    }

    /** The node's default scheduler and consistent-hash table size (kube-ferry's own, not document fields). */
    public ProxyConfig withScheduling(String scheduler, int hashTableSize) {
        return withOwn(new Own(own.serviceProxyName(), own.netns(), own.master(), scheduler, hashTableSize,
                own.conntrackHooks()));
    }

    public ProxyConfig withConntrackHooks(ConntrackHookSettings value) {
        return withOwn(new Own(own.serviceProxyName(), own.netns(), own.master(), own.scheduler(), own.hashTableSize(),
                value));
    }
}
