package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.KubeProxyConfigurationLoader;
import io.kubeferry.proxy.config.ProxyConfig;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** kube-proxy's flags (and kube-ferry's own), shared by the subcommands. Flags given win over the file. */
final class ConfigOptions {

    @Option(names = "--config", description = "Path to a KubeProxyConfiguration file.")
    Path config;

    @Option(names = "--kubeconfig", description = "Path to a kubeconfig (default: in-cluster config, else ~/.kube/config).")
    String kubeconfig;

    @Option(names = "--hostname-override", description = "This node's name (default: the host name).")
    String hostnameOverride;

    @Option(names = {"--proxy-mode", "--mode"}, description = "iptables or ipvs.")
    String mode;

    @Option(names = "--cluster-cidr", description = "Pod CIDR(s), comma-separated: traffic from outside them is masqueraded.")
    String clusterCIDR;

    @Option(names = "--masquerade-all", description = "SNAT all traffic sent via Service cluster IPs.")
    Boolean masqueradeAll;

    @Option(names = "--healthz-bind-address", description = "host:port for /healthz and /livez (default 0.0.0.0:10256).")
    String healthzBindAddress;

    @Option(names = "--metrics-bind-address", description = "host:port for /metrics (default 127.0.0.1:10249).")
    String metricsBindAddress;

    @Option(names = "--nodeport-addresses", split = ",", description = "CIDRs (or primary, localhost, all) NodePorts open on.")
    List<String> nodePortAddresses;

    @Option(names = "--ipvs-scheduler", description = "The global IPVS scheduler (default rr).")
    String ipvsScheduler;

    @Option(names = "--service-proxy-name", description = "Also serve Services labelled service.kubernetes.io/service-proxy-name=NAME.")
    String serviceProxyName;

    @Option(names = "--netns", description = "Program this named network namespace instead of the current one.")
    String netns;

    /** The effective configuration. */
    ProxyConfig resolve() throws ConfigException {
        ProxyConfig c = config == null ? ProxyConfig.defaults() : KubeProxyConfigurationLoader.load(config);
        if (mode != null) {
            c = c.withMode(mode);
        }
        if (kubeconfig != null) {
            c = c.withKubeconfig(kubeconfig);
        }
        if (hostnameOverride != null) {
            c = c.withHostnameOverride(hostnameOverride);
        }
        if (c.hostnameOverride().isEmpty()) {
            c = c.withHostnameOverride(defaultHostname());
        }
        c = c.withHostnameOverride(c.hostnameOverride().strip().toLowerCase(Locale.ROOT));
        if (clusterCIDR != null) {
            c = c.withClusterCIDRs(KubeProxyConfigurationLoader.splitCIDRs(clusterCIDR));
        }
        if (masqueradeAll != null) {
            ProxyConfig.Iptables i = c.iptables();
            c = c.withIptables(new ProxyConfig.Iptables(masqueradeAll, i.masqueradeBit(), i.localhostNodePorts(), i.syncPeriod(), i.minSyncPeriod()));
        }
        if (healthzBindAddress != null || metricsBindAddress != null) {
            c = c.withBindAddresses(healthzBindAddress != null ? healthzBindAddress : c.healthzBindAddress(),
                    metricsBindAddress != null ? metricsBindAddress : c.metricsBindAddress());
        }
        if (nodePortAddresses != null) {
            c = c.withNodePortAddresses(nodePortAddresses);
        }
        if (ipvsScheduler != null) {
            ProxyConfig.Ipvs v = c.ipvs();
            c = c.withIpvs(new ProxyConfig.Ipvs(ipvsScheduler, v.syncPeriod(), v.minSyncPeriod(), v.excludeCIDRs(), v.strictARP(),
                    v.tcpTimeout(), v.tcpFinTimeout(), v.udpTimeout()));
        }
        if (serviceProxyName != null) {
            c = c.withServiceProxyName(serviceProxyName);
        }
        if (netns != null) {
            c = c.withNetns(netns);
        }
        KubeProxyConfigurationLoader.validate(c);
        io.kubeferry.proxy.dataplane.DataplaneProvider.validateMode(c);
        return c;
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
