package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.HostPort;
import io.kubeferry.proxy.config.KubeProxyConfigurationLoader;
import io.kubeferry.proxy.config.ProxyConfig;
import picocli.CommandLine.Option;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * kube-proxy 1.35's whole command line (and kube-ferry's own options), shared by every subcommand, so an option
 * means the same before or after the subcommand. Flags given win over the file. Every field is null until given,
 * so "not given" and "given the default" stay apart. Flags with no effect in kube-ferry carry {@link NoEffect}:
 * they are accepted and reported with one WARN line each.
 */
final class ConfigOptions {

    /**
     * A kube-proxy flag kube-ferry accepts but does not act on (the flag is the field's first {@link Option} name,
     * see {@link #flagOf}); {@code field} is its KubeProxyConfiguration path.
     */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    @interface NoEffect {
        String field() default "";
    }

    /** The flag a {@link NoEffect} field stands for: its first option name, as kube-proxy spells it. */
    static String flagOf(Field f) {
        return f.getAnnotation(Option.class).names()[0];
    }

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--version", arity = "0..1", fallbackValue = "true", paramLabel = "true|raw",
            description = "Print the version, git commit and build date, and exit.")
    String version;

    @Option(names = "--config", description = "Path to a KubeProxyConfiguration file.")
    Path config;

    @Option(names = "--write-config-to", description = "Write the effective configuration as a KubeProxyConfiguration to this file and exit.")
    Path writeConfigTo;

    @Option(names = "--cleanup", arity = "0..1", fallbackValue = "true", description = "Clean up iptables and IPVS rules (as the cleanup command) and exit.")
    Boolean cleanup;

    @Option(names = "--init-only", arity = "0..1", fallbackValue = "true",
            description = "Apply the start-up settings that need root (conntrack sysctls, oom_score_adj) and exit.")
    Boolean initOnly;

    @Option(names = "--feature-gates", paramLabel = "KEY=BOOL,...", description = "Upstream's feature gates (kube-ferry has none of them: reported).")
    String featureGates;

    @Option(names = "--kubeconfig", description = "Path to a kubeconfig (default: in-cluster config, else ~/.kube/config).")
    String kubeconfig;

    @Option(names = "--master", description = "The API server's address (overrides the kubeconfig's).")
    String master;

    @Option(names = "--kube-api-content-type", description = "Content type asked of the API server (kube-ferry's client speaks JSON).")
    String kubeApiContentType;

    @Option(names = "--kube-api-burst", description = "Burst to use while talking with the API server (not applied: see the log).")
    Integer kubeApiBurst;

    @Option(names = "--kube-api-qps", description = "QPS to use while talking with the API server (not applied: see the log).")
    Float kubeApiQps;

    @Option(names = "--hostname-override", description = "This node's name (default: the host name).")
    String hostnameOverride;

    @Option(names = "--healthz-bind-address", description = "host:port for /healthz and /livez (default 0.0.0.0:10256).")
    String healthzBindAddress;

    @Option(names = "--healthz-port", description = "Deprecated: the port of --healthz-bind-address (0 disables).")
    Integer healthzPort;

    @Option(names = "--metrics-bind-address", description = "host:port for /metrics (default 127.0.0.1:10249).")
    String metricsBindAddress;

    @Option(names = "--metrics-port", description = "Deprecated: the port of --metrics-bind-address (0 disables).")
    Integer metricsPort;

    @Option(names = {"--proxy-mode", "--mode"}, description = "iptables or ipvs.")
    String mode;

    @Option(names = "--iptables-masquerade-bit", description = "The fwmark bit marking packets for SNAT, 0-31 (default 14).")
    Integer iptablesMasqueradeBit;

    @Option(names = "--masquerade-all", arity = "0..1", fallbackValue = "true", description = "SNAT all traffic sent via Service cluster IPs.")
    Boolean masqueradeAll;

    @Option(names = "--iptables-localhost-nodeports", arity = "0..1", fallbackValue = "true",
            description = "Allow NodePorts on localhost (iptables mode; default true).")
    Boolean iptablesLocalhostNodePorts;

    @Option(names = "--iptables-sync-period", description = "iptables.syncPeriod (e.g. 30s, 1m).")
    Duration iptablesSyncPeriod;

    @Option(names = "--iptables-min-sync-period", description = "iptables.minSyncPeriod (e.g. 1s; 0 syncs on every change).")
    Duration iptablesMinSyncPeriod;

    @Option(names = "--ipvs-sync-period", description = "ipvs.syncPeriod.")
    Duration ipvsSyncPeriod;

    @Option(names = "--ipvs-min-sync-period", description = "ipvs.minSyncPeriod.")
    Duration ipvsMinSyncPeriod;

    @Option(names = "--ipvs-scheduler", description = "The global IPVS scheduler (default rr).")
    String ipvsScheduler;

    @Option(names = "--ipvs-exclude-cidrs", split = ",", description = "CIDRs whose IPVS virtual servers kube-ferry never touches.")
    List<String> ipvsExcludeCIDRs;

    @Option(names = "--ipvs-strict-arp", arity = "0..1", fallbackValue = "true", description = "Set arp_ignore=1 and arp_announce=2.")
    Boolean ipvsStrictARP;

    @Option(names = "--ipvs-tcp-timeout", description = "ipvs.tcpTimeout (0 leaves it as is).")
    Duration ipvsTcpTimeout;

    @Option(names = "--ipvs-tcpfin-timeout", description = "ipvs.tcpFinTimeout (0 leaves it as is).")
    Duration ipvsTcpFinTimeout;

    @Option(names = "--ipvs-udp-timeout", description = "ipvs.udpTimeout (0 leaves it as is).")
    Duration ipvsUdpTimeout;

    @Option(names = "--detect-local-mode", description = "How local traffic is detected (kube-ferry: ClusterCIDR).")
    String detectLocalMode;

    @Option(names = "--cluster-cidr", description = "Pod CIDR(s), comma-separated: traffic from outside them is masqueraded.")
    String clusterCIDR;

    @Option(names = "--nodeport-addresses", split = ",", description = "CIDRs (or primary, localhost, all) NodePorts open on.")
    List<String> nodePortAddresses;

    @Option(names = "--oom-score-adj", description = "The process's oom_score_adj, -1000 to 1000 (default -999).")
    Integer oomScoreAdj;

    @Option(names = "--conntrack-max-per-core", description = "Conntrack entries per CPU (0 leaves the limit as is).")
    Integer conntrackMaxPerCore;

    @Option(names = "--conntrack-min", description = "Lower bound of the conntrack limit.")
    Integer conntrackMin;

    @Option(names = "--conntrack-tcp-timeout-established", description = "nf_conntrack_tcp_timeout_established (0 leaves it).")
    Duration conntrackTcpTimeoutEstablished;

    @Option(names = "--conntrack-tcp-timeout-close-wait", description = "nf_conntrack_tcp_timeout_close_wait (0 leaves it).")
    Duration conntrackTcpTimeoutCloseWait;

    @Option(names = "--conntrack-tcp-be-liberal", arity = "0..1", fallbackValue = "true", description = "Set nf_conntrack_tcp_be_liberal to 1.")
    Boolean conntrackTcpBeLiberal;

    @Option(names = "--conntrack-udp-timeout", description = "nf_conntrack_udp_timeout (0 leaves it).")
    Duration conntrackUdpTimeout;

    @Option(names = "--conntrack-udp-timeout-stream", description = "nf_conntrack_udp_timeout_stream (0 leaves it).")
    Duration conntrackUdpTimeoutStream;

    @Option(names = "--config-sync-period", description = "Informer resync period (default 15m).")
    Duration configSyncPeriod;

    @Option(names = {"-v", "--v"}, description = "Log verbosity: 0-1 INFO, 2-3 more of kube-ferry's own, 4 and up DEBUG.")
    Integer verbosity;

    @Option(names = "--logging-format", description = "text (default) or json (one JSON object per line).")
    String loggingFormat;

    @Option(names = "--service-proxy-name", description = "kube-ferry: also serve Services labelled service.kubernetes.io/service-proxy-name=NAME.")
    String serviceProxyName;

    @Option(names = "--netns", description = "kube-ferry: program this named network namespace instead of the current one.")
    String netns;

    // kube-proxy flags with no effect in kube-ferry: accepted, reported, and kept in the written config.

    @NoEffect(field = "bindAddress")
    @Option(names = "--bind-address", hidden = true)
    String bindAddress;

    @NoEffect(field = "bindAddressHardFail")
    @Option(names = "--bind-address-hard-fail", arity = "0..1", fallbackValue = "true", hidden = true)
    String bindAddressHardFail;

    @NoEffect(field = "enableProfiling")
    @Option(names = "--profiling", arity = "0..1", fallbackValue = "true", hidden = true)
    String profiling;

    @NoEffect(field = "showHiddenMetricsForVersion")
    @Option(names = "--show-hidden-metrics-for-version", hidden = true)
    String showHiddenMetricsForVersion;

    @NoEffect(field = "detectLocal.bridgeInterface")
    @Option(names = "--pod-bridge-interface", hidden = true)
    String podBridgeInterface;

    @NoEffect(field = "detectLocal.interfaceNamePrefix")
    @Option(names = "--pod-interface-name-prefix", hidden = true)
    String podInterfaceNamePrefix;

    @NoEffect(field = "logging.flushFrequency")
    @Option(names = "--log-flush-frequency", hidden = true)
    String logFlushFrequency;

    @NoEffect
    @Option(names = "--vmodule", hidden = true)
    String vmodule;

    @NoEffect(field = "logging.options.text.splitStream")
    @Option(names = "--log-text-split-stream", arity = "0..1", fallbackValue = "true", hidden = true)
    String logTextSplitStream;

    @NoEffect(field = "logging.options.text.infoBufferSize")
    @Option(names = "--log-text-info-buffer-size", hidden = true)
    String logTextInfoBufferSize;

    @NoEffect(field = "logging.options.json.splitStream")
    @Option(names = "--log-json-split-stream", arity = "0..1", fallbackValue = "true", hidden = true)
    String logJsonSplitStream;

    @NoEffect(field = "logging.options.json.infoBufferSize")
    @Option(names = "--log-json-info-buffer-size", hidden = true)
    String logJsonInfoBufferSize;

    @NoEffect
    @Option(names = "--boot-id-file", hidden = true)
    String bootIdFile;

    @NoEffect
    @Option(names = "--machine-id-file", hidden = true)
    String machineIdFile;

    // klog's own flags: kube-proxy 1.35 no longer has them, but DaemonSets written for older releases pass
    // them; accepted (with - or _, as pflag normalised them) and reported rather than refused.

    @NoEffect
    @Option(names = {"--add_dir_header", "--add-dir-header"}, arity = "0..1", fallbackValue = "true", hidden = true)
    String addDirHeader;

    @NoEffect
    @Option(names = "--alsologtostderr", arity = "0..1", fallbackValue = "true", hidden = true)
    String alsoLogToStderr;

    @NoEffect
    @Option(names = {"--log_backtrace_at", "--log-backtrace-at"}, hidden = true)
    String logBacktraceAt;

    @NoEffect
    @Option(names = {"--log_dir", "--log-dir"}, hidden = true)
    String logDir;

    @NoEffect
    @Option(names = {"--log_file", "--log-file"}, hidden = true)
    String logFile;

    @NoEffect
    @Option(names = {"--log_file_max_size", "--log-file-max-size"}, hidden = true)
    String logFileMaxSize;

    @NoEffect
    @Option(names = "--logtostderr", arity = "0..1", fallbackValue = "true", hidden = true)
    String logToStderr;

    @NoEffect
    @Option(names = {"--one_output", "--one-output"}, arity = "0..1", fallbackValue = "true", hidden = true)
    String oneOutput;

    @NoEffect
    @Option(names = {"--skip_headers", "--skip-headers"}, arity = "0..1", fallbackValue = "true", hidden = true)
    String skipHeaders;

    @NoEffect
    @Option(names = {"--skip_log_headers", "--skip-log-headers"}, arity = "0..1", fallbackValue = "true", hidden = true)
    String skipLogHeaders;

    @NoEffect
    @Option(names = "--stderrthreshold", hidden = true)
    String stderrThreshold;

    // kube-proxy's Windows build adds these.

    @NoEffect(field = "windowsRunAsService")
    @Option(names = "--windows-service", arity = "0..1", fallbackValue = "true", hidden = true)
    String windowsService;

    @NoEffect(field = "winkernel.sourceVip")
    @Option(names = "--source-vip", hidden = true)
    String sourceVip;

    @NoEffect(field = "winkernel.networkName")
    @Option(names = "--network-name", hidden = true)
    String networkName;

    @NoEffect(field = "winkernel.enableDSR")
    @Option(names = "--enable-dsr", arity = "0..1", fallbackValue = "true", hidden = true)
    String enableDSR;

    @NoEffect(field = "winkernel.rootHnsEndpointName")
    @Option(names = "--root-hnsendpoint-name", hidden = true)
    String rootHnsEndpointName;

    @NoEffect(field = "winkernel.forwardHealthCheckVip")
    @Option(names = "--forward-healthcheck-vip", arity = "0..1", fallbackValue = "true", hidden = true)
    String forwardHealthCheckVip;

    private ProxyConfig resolved;

    /** The effective configuration (computed once: the file is read once per run). */
    ProxyConfig resolve() throws ConfigException {
        if (resolved == null) {
            resolved = compute();
        }
        return resolved;
    }

    /** The no-effect flags given, in declaration order: flag name to value. */
    Map<String, String> noEffectFlags() {
        Map<String, String> given = new LinkedHashMap<>();
        for (Field f : ConfigOptions.class.getDeclaredFields()) {
            NoEffect n = f.getAnnotation(NoEffect.class);
            Object value = n == null ? null : read(f);
            if (value != null) {
                given.put(flagOf(f), value.toString());
            }
        }
        return given;
    }

    private Object read(Field f) {
        try {
            return f.get(this);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private ProxyConfig compute() throws ConfigException {
        ProxyConfig c = config == null ? ProxyConfig.defaults() : KubeProxyConfigurationLoader.load(config);
        if (mode != null) {
            c = c.withMode(mode);
        }
        if (kubeconfig != null) {
            c = c.withKubeconfig(kubeconfig);
        }
        if (master != null) {
            c = c.withMaster(master);
        }
        if (hostnameOverride != null && !hostnameOverride.isEmpty()) {
            if (hostnameOverride.isBlank()) {
                throw new ConfigException("--hostname-override: an empty node name is invalid");
            }
            c = c.withHostnameOverride(hostnameOverride);
        }
        if (c.hostnameOverride().isEmpty()) {
            c = c.withHostnameOverride(defaultHostname());
        }
        c = c.withHostnameOverride(c.hostnameOverride().strip().toLowerCase(Locale.ROOT));
        if (clusterCIDR != null) {
            c = c.withClusterCIDRs(KubeProxyConfigurationLoader.splitCIDRs(clusterCIDR));
        }
        if (detectLocalMode != null) {
            c = c.withDetectLocalMode(detectLocalMode.isEmpty() ? "ClusterCIDR" : detectLocalMode);
        }
        c = withIptables(c);
        c = withIpvs(c);
        c = withConntrack(c);
        c = withAddresses(c);
        if (nodePortAddresses != null) {
            c = c.withNodePortAddresses(nodePortAddresses);
        }
        if (configSyncPeriod != null) {
            c = c.withConfigSyncPeriod(configSyncPeriod);
        }
        if (kubeApiContentType != null || kubeApiQps != null || kubeApiBurst != null) {
            ProxyConfig.ClientConnection cc = c.clientConnection();
            c = c.withClientConnection(new ProxyConfig.ClientConnection(
                    kubeApiContentType != null ? kubeApiContentType : cc.contentType(),
                    kubeApiQps != null ? kubeApiQps : cc.qps(), kubeApiBurst != null ? kubeApiBurst : cc.burst()));
        }
        if (verbosity != null || loggingFormat != null) {
            c = c.withLogging(new ProxyConfig.Logging(loggingFormat != null ? loggingFormat : c.logging().format(),
                    verbosity != null ? verbosity : c.logging().verbosity()));
        }
        if (featureGates != null) {
            c = c.withFeatureGates(KubeProxyConfigurationLoader.parseFeatureGates(featureGates));
        }
        if (oomScoreAdj != null) {
            c = c.withOomScoreAdj(oomScoreAdj);
        }
        if (serviceProxyName != null) {
            c = c.withServiceProxyName(serviceProxyName);
        }
        if (netns != null) {
            c = c.withNetns(netns);
        }
        Map<String, String> unused = new LinkedHashMap<>();
        for (Field f : ConfigOptions.class.getDeclaredFields()) {
            NoEffect n = f.getAnnotation(NoEffect.class);
            Object value = n == null || n.field().isEmpty() ? null : read(f);
            if (value != null) {
                unused.put(n.field(), value.toString());
            }
        }
        c = c.withUnused(unused);
        KubeProxyConfigurationLoader.validate(c);
        io.kubeferry.proxy.dataplane.DataplaneProvider.validateMode(c);
        return c;
    }

    private ProxyConfig withIptables(ProxyConfig c) {
        ProxyConfig.Iptables i = c.iptables();
        return c.withIptables(new ProxyConfig.Iptables(
                masqueradeAll != null ? masqueradeAll : i.masqueradeAll(),
                iptablesMasqueradeBit != null ? iptablesMasqueradeBit : i.masqueradeBit(),
                iptablesLocalhostNodePorts != null ? iptablesLocalhostNodePorts : i.localhostNodePorts(),
                iptablesSyncPeriod != null ? iptablesSyncPeriod : i.syncPeriod(),
                iptablesMinSyncPeriod != null ? iptablesMinSyncPeriod : i.minSyncPeriod()));
    }

    private ProxyConfig withIpvs(ProxyConfig c) {
        ProxyConfig.Ipvs v = c.ipvs();
        return c.withIpvs(new ProxyConfig.Ipvs(
                ipvsScheduler != null ? ipvsScheduler : v.scheduler(),
                ipvsSyncPeriod != null ? ipvsSyncPeriod : v.syncPeriod(),
                ipvsMinSyncPeriod != null ? ipvsMinSyncPeriod : v.minSyncPeriod(),
                ipvsExcludeCIDRs != null ? ipvsExcludeCIDRs : v.excludeCIDRs(),
                ipvsStrictARP != null ? ipvsStrictARP : v.strictARP(),
                ipvsTcpTimeout != null ? ipvsTcpTimeout : v.tcpTimeout(),
                ipvsTcpFinTimeout != null ? ipvsTcpFinTimeout : v.tcpFinTimeout(),
                ipvsUdpTimeout != null ? ipvsUdpTimeout : v.udpTimeout()));
    }

    private ProxyConfig withConntrack(ProxyConfig c) {
        ProxyConfig.Conntrack t = c.conntrack();
        return c.withConntrack(new ProxyConfig.Conntrack(
                conntrackMaxPerCore != null ? conntrackMaxPerCore : t.maxPerCore(),
                conntrackMin != null ? conntrackMin : t.min(),
                conntrackTcpTimeoutEstablished != null ? conntrackTcpTimeoutEstablished : t.tcpEstablishedTimeout(),
                conntrackTcpTimeoutCloseWait != null ? conntrackTcpTimeoutCloseWait : t.tcpCloseWaitTimeout(),
                conntrackTcpBeLiberal != null ? conntrackTcpBeLiberal : t.tcpBeLiberal(),
                conntrackUdpTimeout != null ? conntrackUdpTimeout : t.udpTimeout(),
                conntrackUdpTimeoutStream != null ? conntrackUdpTimeoutStream : t.udpStreamTimeout()));
    }

    /** The bind addresses, then the deprecated port flags on top (port 0 disables the server, as upstream). */
    private ProxyConfig withAddresses(ProxyConfig c) throws ConfigException {
        String healthz = healthzBindAddress != null ? healthzBindAddress : c.healthzBindAddress();
        String metrics = metricsBindAddress != null ? metricsBindAddress : c.metricsBindAddress();
        healthz = withPort("healthzBindAddress", healthz, healthzPort, "0.0.0.0");
        metrics = withPort("metricsBindAddress", metrics, metricsPort, "127.0.0.1");
        return c.withBindAddresses(healthz, metrics);
    }

    private static String withPort(String field, String address, Integer port, String defaultHost) throws ConfigException {
        if (port == null) {
            return address;
        }
        if (port == 0) {
            return "";
        }
        try {
            return HostPort.withPort(address.isEmpty() ? defaultHost : address, port).toString();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(field + ": " + e.getMessage());
        }
    }

    private static String defaultHostname() {
        String env = System.getenv("NODE_NAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "localhost";
        }
    }
}
