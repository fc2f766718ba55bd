package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.GoDuration;
import io.kubeferry.proxy.config.ProxyConfig;

/** Writes an effective configuration back as a KubeProxyConfiguration (--write-config-to). */
final class ConfigWriter {

    private ConfigWriter() {
    }

    static String write(ProxyConfig c) {
        return "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
                + "kind: KubeProxyConfiguration\n"
                + "mode: " + c.mode() + "\n"
                + "hostnameOverride: \"" + c.hostnameOverride() + "\"\n"
                + "clientConnection:\n  kubeconfig: \"" + c.kubeconfig() + "\"\n"
                + "healthzBindAddress: \"" + c.healthzBindAddress() + "\"\n"
                + "metricsBindAddress: \"" + c.metricsBindAddress() + "\"\n"
                + "clusterCIDR: \"" + String.join(",", c.clusterCIDRs()) + "\"\n"
                + "nodePortAddresses: [" + String.join(", ", c.nodePortAddresses().stream().map(a -> "\"" + a + "\"").toList()) + "]\n"
                + "configSyncPeriod: " + GoDuration.format(c.configSyncPeriod()) + "\n"
                + "iptables:\n"
                + "  masqueradeAll: " + c.iptables().masqueradeAll() + "\n"
                + "  masqueradeBit: " + c.iptables().masqueradeBit() + "\n"
                + "  localhostNodePorts: " + c.iptables().localhostNodePorts() + "\n"
                + "  syncPeriod: " + GoDuration.format(c.iptables().syncPeriod()) + "\n"
                + "  minSyncPeriod: " + GoDuration.format(c.iptables().minSyncPeriod()) + "\n"
                + "ipvs:\n"
                + "  scheduler: \"" + c.ipvs().scheduler() + "\"\n"
                + "  syncPeriod: " + GoDuration.format(c.ipvs().syncPeriod()) + "\n"
                + "  minSyncPeriod: " + GoDuration.format(c.ipvs().minSyncPeriod()) + "\n"
                + "  strictARP: " + c.ipvs().strictARP() + "\n"
                + "  excludeCIDRs: [" + String.join(", ", c.ipvs().excludeCIDRs().stream().map(a -> "\"" + a + "\"").toList()) + "]\n"
                + "conntrack:\n"
                + "  maxPerCore: " + c.conntrack().maxPerCore() + "\n"
                + "  min: " + c.conntrack().min() + "\n"
                + "  tcpEstablishedTimeout: " + GoDuration.format(c.conntrack().tcpEstablishedTimeout()) + "\n"
                + "  tcpCloseWaitTimeout: " + GoDuration.format(c.conntrack().tcpCloseWaitTimeout()) + "\n";
    }
}
