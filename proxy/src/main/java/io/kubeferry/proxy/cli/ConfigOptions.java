package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.HostPort;
import io.kubeferry.proxy.config.KubeProxyConfigurationLoader;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
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

    /**
     * The KubeProxyConfiguration field (dotted path) a flag sets: the value goes through the same binding as the
     * file's, so flags and file are checked and written alike.
     */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    @interface Sets {

        String value();
    }

    /** The flag a {@link NoEffect} field stands for: its first option name, as kube-proxy spells it. */
    static String flagOf(Field f) {
        return f.getAnnotation(Option.class).names()[0];
    }

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--version", arity = "0..1", fallbackValue = "true", paramLabel = "true|raw", description = "Print the version, git commit and build date, and exit.")
    String version;

    @Option(names = "--config", description = "Path to a KubeProxyConfiguration file.")
    Path config;

    @Option(names = "--write-config-to", description = "Write the effective configuration as a KubeProxyConfiguration to this file and exit.")
    Path writeConfigTo;

    @Option(names = "--cleanup", arity = "0..1", fallbackValue = "true", description = "Clean up iptables and IPVS rules (as the cleanup command) and exit.")
    Boolean cleanup;

    @Option(names = "--init-only", arity = "0..1", fallbackValue = "true", description = "Apply the start-up settings that need root (conntrack sysctls, oom_score_adj) and exit.")
    Boolean initOnly;

    @Option(names = "--feature-gates", paramLabel = "KEY=BOOL,...", description = "Upstream's feature gates (kube-ferry has none of them: reported).")
    String featureGates;

    @Sets("clientConnection.kubeconfig")
    @Option(names = "--kubeconfig", description = "Path to a kubeconfig (default: in-cluster config, else ~/.kube/config).")
    String kubeconfig;

    @Option(names = "--master", description = "The API server's address (overrides the kubeconfig's).")
    String master;

    @Sets("clientConnection.contentType")
    @Option(names = "--kube-api-content-type", description = "Content type asked of the API server (kube-ferry's client speaks JSON).")
    String kubeApiContentType;

    @Sets("clientConnection.burst")
    @Option(names = "--kube-api-burst", description = "Burst to use while talking with the API server (not applied: see the log).")
    Integer kubeApiBurst;

    @Sets("clientConnection.qps")
    @Option(names = "--kube-api-qps", description = "QPS to use while talking with the API server (not applied: see the log).")
    Float kubeApiQps;

    @Option(names = "--hostname-override", description = "This node's name (default: the host name).")
    String hostnameOverride;

    @Sets("healthzBindAddress")
    @Option(names = "--healthz-bind-address", description = "host:port for /healthz and /livez (default 0.0.0.0:10256).")
    String healthzBindAddress;

    @Option(names = "--healthz-port", description = "Deprecated: the port of --healthz-bind-address (0 disables).")
    Integer healthzPort;

    @Sets("metricsBindAddress")
    @Option(names = "--metrics-bind-address", description = "host:port for /metrics (default 127.0.0.1:10249).")
    String metricsBindAddress;

    @Option(names = "--metrics-port", description = "Deprecated: the port of --metrics-bind-address (0 disables).")
    Integer metricsPort;

    @Sets("mode")
    @Option(names = {"--proxy-mode", "--mode"}, description = "iptables, ipvs or nftables.")
    String mode;

    @Sets("iptables.masqueradeBit")
    @Option(names = "--iptables-masquerade-bit", description = "The fwmark bit marking packets for SNAT, 0-31 (default 14).")
    Integer iptablesMasqueradeBit;

    @Sets("iptables.masqueradeAll")
    @Option(names = "--masquerade-all", arity = "0..1", fallbackValue = "true", description = "SNAT all traffic sent via Service cluster IPs.")
    Boolean masqueradeAll;

    @Sets("iptables.localhostNodePorts")
    @Option(names = "--iptables-localhost-nodeports", arity = "0..1", fallbackValue = "true", description = "Allow NodePorts on localhost (iptables mode; default true).")
    Boolean iptablesLocalhostNodePorts;

    @Sets("iptables.syncPeriod")
    @Option(names = "--iptables-sync-period", description = "iptables.syncPeriod (e.g. 30s, 1m).")
    Duration iptablesSyncPeriod;

    @Sets("iptables.minSyncPeriod")
    @Option(names = "--iptables-min-sync-period", description = "iptables.minSyncPeriod (e.g. 1s; 0 syncs on every change).")
    Duration iptablesMinSyncPeriod;

    @Sets("ipvs.syncPeriod")
    @Option(names = "--ipvs-sync-period", description = "ipvs.syncPeriod.")
    Duration ipvsSyncPeriod;

    @Sets("ipvs.minSyncPeriod")
    @Option(names = "--ipvs-min-sync-period", description = "ipvs.minSyncPeriod.")
    Duration ipvsMinSyncPeriod;

    @Sets("ipvs.scheduler")
    @Option(names = "--ipvs-scheduler", description = "The global IPVS scheduler (default rr).")
    String ipvsScheduler;

    @Sets("ipvs.excludeCIDRs")
    @Option(names = "--ipvs-exclude-cidrs", split = ",", description = "CIDRs whose IPVS virtual servers kube-ferry never touches.")
    List<String> ipvsExcludeCIDRs;

    @Sets("ipvs.strictARP")
    @Option(names = "--ipvs-strict-arp", arity = "0..1", fallbackValue = "true", description = "Set arp_ignore=1 and arp_announce=2.")
    Boolean ipvsStrictARP;

    @Sets("ipvs.tcpTimeout")
    @Option(names = "--ipvs-tcp-timeout", description = "ipvs.tcpTimeout (0 leaves it as is).")
    Duration ipvsTcpTimeout;

    @Sets("ipvs.tcpFinTimeout")
    @Option(names = "--ipvs-tcpfin-timeout", description = "ipvs.tcpFinTimeout (0 leaves it as is).")
    Duration ipvsTcpFinTimeout;

    @Sets("ipvs.udpTimeout")
    @Option(names = "--ipvs-udp-timeout", description = "ipvs.udpTimeout (0 leaves it as is).")
    Duration ipvsUdpTimeout;

    @Sets("detectLocalMode")
    @Option(names = "--detect-local-mode", description = "How local traffic is detected (kube-ferry: ClusterCIDR).")
    String detectLocalMode;

    @Sets("clusterCIDR")
    @Option(names = "--cluster-cidr", description = "Pod CIDR(s), comma-separated: traffic from outside them is masqueraded.")
    String clusterCIDR;

    @Sets("nodePortAddresses")
    @Option(names = "--nodeport-addresses", split = ",", description = "CIDRs (or primary, localhost, all) NodePorts open on.")
    List<String> nodePortAddresses;

    @Sets("oomScoreAdj")
    @Option(names = "--oom-score-adj", description = "The process's oom_score_adj, -1000 to 1000 (default -999).")
    Integer oomScoreAdj;

    @Sets("conntrack.maxPerCore")
    @Option(names = "--conntrack-max-per-core", description = "Conntrack entries per CPU (0 leaves the limit as is).")
    Integer conntrackMaxPerCore;

    @Sets("conntrack.min")
    @Option(names = "--conntrack-min", description = "Lower bound of the conntrack limit.")
    Integer conntrackMin;

    @Sets("conntrack.tcpEstablishedTimeout")
    @Option(names = "--conntrack-tcp-timeout-established", description = "nf_conntrack_tcp_timeout_established (0 leaves it).")
    Duration conntrackTcpTimeoutEstablished;

    @Sets("conntrack.tcpCloseWaitTimeout")
    @Option(names = "--conntrack-tcp-timeout-close-wait", description = "nf_conntrack_tcp_timeout_close_wait (0 leaves it).")
    Duration conntrackTcpTimeoutCloseWait;

    @Sets("conntrack.tcpBeLiberal")
    @Option(names = "--conntrack-tcp-be-liberal", arity = "0..1", fallbackValue = "true", description = "Set nf_conntrack_tcp_be_liberal to 1.")
    Boolean conntrackTcpBeLiberal;

    @Sets("conntrack.udpTimeout")
    @Option(names = "--conntrack-udp-timeout", description = "nf_conntrack_udp_timeout (0 leaves it).")
    Duration conntrackUdpTimeout;

    @Sets("conntrack.udpStreamTimeout")
    @Option(names = "--conntrack-udp-timeout-stream", description = "nf_conntrack_udp_timeout_stream (0 leaves it).")
    Duration conntrackUdpTimeoutStream;

    @Sets("configSyncPeriod")
    @Option(names = "--config-sync-period", description = "Informer resync period (default 15m).")
    Duration configSyncPeriod;

    @Sets("logging.verbosity")
    @Option(names = {"-v", "--v"}, description = "Log verbosity: 0-1 INFO, 2-3 more of kube-ferry's own, 4 and up DEBUG.")
    Integer verbosity;

    @Sets("logging.format")
    @Option(names = "--logging-format", description = "text (default) or json (one JSON object per line).")
    String loggingFormat;

    @Option(names = "--service-proxy-name", description = "kube-ferry: also serve Services labelled service.kubernetes.io/service-proxy-name=NAME.")
    String serviceProxyName;

    @Option(names = "--netns", description = "kube-ferry: program this named network namespace instead of the current one.")
    String netns;

    @Option(names = "--conntrack-hook-timeout", description = "kube-ferry: how long one conntrack hook call may take (default 30s).")
    Duration conntrackHookTimeout;

    @Option(names = "--conntrack-flush-tcp", arity = "0..1", fallbackValue = "true", description = "kube-ferry: delete the TCP conntrack entries of removed endpoints of every Service, not only of those annotated kube-ferry.io/conntrack-flush-tcp=true.")
    Boolean conntrackFlushTcp;

    @Option(names = "--conntrack-count-period", description = "kube-ferry: how often the per-Service conntrack entry counts are read (default 1m; 0 never).")
    Duration conntrackCountPeriod;

    @Option(names = "--scheduler", description = "kube-ferry: the scheduling algorithm for Services without a kube-ferry.io/scheduler "
            + "annotation (iptables mode: random, rr, source-hash, maglev or a plugin's; default: the mode's own).")
    String scheduler;

    @Option(names = "--maglev-table-size", description = "kube-ferry: slots of a Maglev table, a prime up to 16381, the same on "
            + "every node (default 1021).")
    Integer maglevTableSize;

    // kube-proxy flags with no effect in kube-ferry: accepted, reported, and kept in the written config.

    @NoEffect(field = "bindAddress")
    @Option(names = "--bind-address", hidden = true)
    String bindAddress;

    @NoEffect(field = "bindAddressHardFail")
    @Option(names = "--bind-address-hard-fail", arity = "0..1", fallbackValue = "true", hidden = true)
    Boolean bindAddressHardFail;

    @NoEffect(field = "enableProfiling")
    @Option(names = "--profiling", arity = "0..1", fallbackValue = "true", hidden = true)
    Boolean profiling;

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
    Boolean logTextSplitStream;

    @NoEffect(field = "logging.options.text.infoBufferSize")
    @Option(names = "--log-text-info-buffer-size", hidden = true)
    String logTextInfoBufferSize;

    @NoEffect(field = "logging.options.json.splitStream")
    @Option(names = "--log-json-split-stream", arity = "0..1", fallbackValue = "true", hidden = true)
    Boolean logJsonSplitStream;

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
    Boolean windowsService;

    @NoEffect(field = "winkernel.sourceVip")
    @Option(names = "--source-vip", hidden = true)
    String sourceVip;

    @NoEffect(field = "winkernel.networkName")
    @Option(names = "--network-name", hidden = true)
    String networkName;

    @NoEffect(field = "winkernel.enableDSR")
    @Option(names = "--enable-dsr", arity = "0..1", fallbackValue = "true", hidden = true)
    Boolean enableDSR;

    @NoEffect(field = "winkernel.rootHnsEndpointName")
    @Option(names = "--root-hnsendpoint-name", hidden = true)
    String rootHnsEndpointName;

    @NoEffect(field = "winkernel.forwardHealthCheckVip")
    @Option(names = "--forward-healthcheck-vip", arity = "0..1", fallbackValue = "true", hidden = true)
    Boolean forwardHealthCheckVip;

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
        Map<String, Object> given = new LinkedHashMap<>();
        for (Field f : ConfigOptions.class.getDeclaredFields()) {
            Sets sets = f.getAnnotation(Sets.class);
            NoEffect noEffect = f.getAnnotation(NoEffect.class);
            String path = sets != null ? sets.value() : noEffect != null && !noEffect.field().isEmpty() ? noEffect.field() : null;
            Object value = path == null ? null : read(f);
            if (value != null) {
                given.put(path, value);
            }
        }
        if (featureGates != null) {
            given.put("featureGates", KubeProxyConfigurationLoader.parseFeatureGates(featureGates));
        }
        c = withAddresses(c.with(given));
        if (hostnameOverride != null && !hostnameOverride.isEmpty()) {
            if (hostnameOverride.isBlank()) {
                throw new ConfigException("--hostname-override: an empty node name is invalid");
            }
            c = c.withHostnameOverride(hostnameOverride);
        }
        String hostname = c.hostnameOverride().isEmpty() ? defaultHostname() : c.hostnameOverride();
        c = c.withHostnameOverride(hostname.strip().toLowerCase(Locale.ROOT));
        c = c.withOwn(new ProxyConfig.Own(serviceProxyName != null ? serviceProxyName : c.serviceProxyName(),
                netns != null ? netns : c.netns(), master != null ? master : c.master(),
                scheduler != null ? scheduler.strip() : c.own().scheduler(),
                maglevTableSize != null ? maglevTableSize : c.own().hashTableSize(), conntrackHooks(c.conntrackHooks())));
        KubeProxyConfigurationLoader.validate(c);
        DataplaneProvider.validateMode(c);
        return c;
    }

    private ProxyConfig.ConntrackHookSettings conntrackHooks(ProxyConfig.ConntrackHookSettings given) throws ConfigException {
        Duration limit = conntrackHookTimeout != null ? conntrackHookTimeout : given.timeLimit();
        Duration period = conntrackCountPeriod != null ? conntrackCountPeriod : given.countPeriod();
        if (limit.isNegative() || limit.isZero()) {
            throw new ConfigException("--conntrack-hook-timeout: must be positive, got " + limit);
        }
        if (period.isNegative()) {
            throw new ConfigException("--conntrack-count-period: must not be negative, got " + period);
        }
        return new ProxyConfig.ConntrackHookSettings(limit, conntrackFlushTcp != null ? conntrackFlushTcp : given.flushTcp(), period);
    }

    /** The deprecated port flags on top of the bind addresses (port 0 disables the server, as upstream). */
    private ProxyConfig withAddresses(ProxyConfig c) throws ConfigException {
        return c.withBindAddresses(withPort("healthzBindAddress", c.healthzBindAddress(), healthzPort, "0.0.0.0"),
                withPort("metricsBindAddress", c.metricsBindAddress(), metricsPort, "127.0.0.1"));
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
