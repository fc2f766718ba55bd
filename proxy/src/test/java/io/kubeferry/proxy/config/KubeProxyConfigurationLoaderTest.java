package io.kubeferry.proxy.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KubeProxyConfigurationLoaderTest {

    private static final String HEAD = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

    @Test
    void readsAnUpstreamConfig() throws ConfigException {
        ProxyConfig c = KubeProxyConfigurationLoader.parse(HEAD + """
                mode: ipvs
                clientConnection:
                  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
                  qps: 5
                hostnameOverride: node-7
                clusterCIDR: 198.18.0.0/16,fd00::/48
                nodePortAddresses: [198.18.0.0/24, primary]
                featureGates: {SomeGate: true}
                iptables:
                  masqueradeBit: 15
                  minSyncPeriod: 0s
                  syncPeriod: 1m30s
                ipvs:
                  scheduler: lc
                  strictARP: true
                  excludeCIDRs: [198.19.99.0/24]
                  tcpTimeout: 900s
                conntrack:
                  maxPerCore: 0
                """);
        assertEquals("ipvs", c.mode());
        assertEquals("/var/lib/kube-proxy/kubeconfig.conf", c.kubeconfig());
        assertEquals("node-7", c.hostnameOverride());
        assertEquals(List.of("198.18.0.0/16", "fd00::/48"), c.clusterCIDRs());
        assertEquals(15, c.iptables().masqueradeBit());
        assertEquals("0x8000", c.iptables().masqueradeMark());
        assertEquals(Duration.ofSeconds(90), c.iptables().syncPeriod());
        assertEquals(Duration.ZERO, c.iptables().minSyncPeriod());
        assertEquals("lc", c.ipvs().scheduler());
        assertTrue(c.ipvs().strictARP());
        assertEquals(Duration.ofMinutes(15), c.ipvs().tcpTimeout());
        assertEquals(Duration.ofSeconds(30), c.syncPeriod(), "ipvs mode uses the ipvs section's period");
        assertEquals("0.0.0.0:10256", c.healthzBindAddress(), "defaults fill the rest");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "iptables: {masqueradeBit: 40}|iptables.masqueradeBit: must be within [0, 31], got 40",
            "iptables: {foo: 1}|unknown field \"iptables.foo\"",
            "iptables: {masqueradeBitt: 9}|unknown field \"iptables.masqueradeBitt\"",
            "logging: {vmodule: [{filePattern: x, level: 2}]}|unknown field \"logging.vmodule[0].level\"",
            "netns: red|unknown field \"netns\"",
            "hostnameOverride: 5|hostnameOverride: must be a string, got 5",
            "iptables: {masqueradeBit: 1.5}|iptables.masqueradeBit: must be an integer, got 1.5",
            "conntrack: {udpTimeout: 30}|conntrack.udpTimeout: must be a duration",
            "nodePortAddresses: 198.18.0.0/24|nodePortAddresses: must be a list",
            "bogus: 1|unknown field \"bogus\"",
            "iptables: {syncPeriod: 10 seconds}|iptables.syncPeriod: invalid duration",
            "iptables: {syncPeriod: 0s}|iptables.syncPeriod: must be greater than 0",
            "iptables: {minSyncPeriod: -1s}|iptables.minSyncPeriod: must be greater than or equal to 0",
            "clusterCIDR: 198.18.0.0/33|clusterCIDR: invalid CIDR",
            "nodePortAddresses: [everywhere]|nodePortAddresses: invalid IPv4 address",
            "nodePortAddresses: [fd00:::1/64]|nodePortAddresses: invalid IPv6 address \"fd00:::1\"",
            "nodePortAddresses: [fd00::/129]|nodePortAddresses: invalid CIDR \"fd00::/129\": prefix length must be 0..128",
            "clusterCIDR: fd00::zz/48|clusterCIDR: invalid IPv6 address \"fd00::zz\"",
            "clusterCIDR: '198.18.0.0/16,198.19.0.0/16'|clusterCIDR: must be a either a single CIDR or dual-stack pair of CIDRs (e.g. [10.100.0.0/16, fde4:8dba:82e1::/48], got \"198.18.0.0/16,198.19.0.0/16\"",
            "clusterCIDR: 'fd00::/48,fd01::/48'|clusterCIDR: must be a either a single CIDR or dual-stack pair of CIDRs",
            "clusterCIDR: '198.18.0.0/16,fd00::/48,198.19.0.0/16'|clusterCIDR: must be a either a single CIDR or dual-stack pair of CIDRs",
            "healthzBindAddress: '[::]'|healthzBindAddress: port must be 0-65535, got \"[::]\"",
            "healthzBindAddress: localhost|healthzBindAddress: must be host:port",
            "iptables: {masqueradeAll: yes please}|iptables.masqueradeAll: must be true or false",
            "ipvs: []|ipvs: must be an object",
            "detectLocalMode: BridgeInterface|detectLocalMode: kube-ferry supports ClusterCIDR"})
    void badSettingsNameTheirField(String yaml, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> KubeProxyConfigurationLoader.parse(HEAD + yaml));
        assertTrue(e.getMessage().startsWith(message) || e.getMessage().contains(message), e.getMessage());
    }

    /** Dual-stack settings as upstream takes them: a pair of cluster CIDRs, IPv6 NodePort CIDRs, IPv6 bind addresses. */
    @Test
    void dualStackSettingsAreTakenPerFamily() throws Exception {
        ProxyConfig c = KubeProxyConfigurationLoader.parse(HEAD + """
                clusterCIDR: "fd00:10::/56,198.18.0.0/16"
                nodePortAddresses: [2001:db8:2::/64, 198.18.0.0/24]
                healthzBindAddress: "[::]:10256"
                metricsBindAddress: "[::1]:10249"
                """);
        assertEquals("198.18.0.0/16", c.clusterCIDR(io.kubeferry.proxy.model.IpFamily.IPv4));
        assertEquals("fd00:10::/56", c.clusterCIDR(io.kubeferry.proxy.model.IpFamily.IPv6));
        assertEquals(List.of("2001:db8:2::/64", "198.18.0.0/24"), c.nodePortAddresses());
        assertEquals("[::]:10256", c.healthzBindAddress());
        assertEquals("[::1]:10249", c.metricsBindAddress());
        ProxyConfig v6 = KubeProxyConfigurationLoader.parse(HEAD + "clusterCIDR: fd00:10::/56\n");
        assertEquals("", v6.clusterCIDR(io.kubeferry.proxy.model.IpFamily.IPv4), "an IPv6-only cluster detects no IPv4 local traffic");
    }

    /** Upstream's defaulting: nftables mode's periods left unset (or 0s, as kube-proxy writes them for another mode) are 30s and 1s. */
    @Test
    void nftablesModeTakesUpstreamsPeriodsWhenItsSectionLeavesThemUnset() throws Exception {
        ProxyConfig unset = KubeProxyConfigurationLoader.parse(HEAD + "mode: nftables\n");
        assertEquals(List.of(Duration.ofSeconds(30), Duration.ofSeconds(1)), List.of(unset.syncPeriod(), unset.minSyncPeriod()));
        ProxyConfig zero = KubeProxyConfigurationLoader.parse(HEAD + "mode: nftables\nnftables: {syncPeriod: 0s, minSyncPeriod: 0s}\n");
        assertEquals(List.of(Duration.ofSeconds(30), Duration.ofSeconds(1)), List.of(zero.syncPeriod(), zero.minSyncPeriod()));
        ProxyConfig given = KubeProxyConfigurationLoader
                .parse(HEAD + "mode: nftables\nnftables: {syncPeriod: 1m, minSyncPeriod: 250ms, masqueradeBit: 9}\n");
        assertEquals(List.of(Duration.ofMinutes(1), Duration.ofMillis(250), 9), List.of(given.syncPeriod(), given.minSyncPeriod(),
                given.nftables().masqueradeBit()));
    }

    @Test
    void aFieldGivenTwiceIsRefused() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> KubeProxyConfigurationLoader.parse(HEAD + "mode: ipvs\nmode: iptables\n"));
        assertTrue(e.getMessage().contains("Duplicate field 'mode'"), e.getMessage());
    }

    @Test
    void wrongKindOrVersionIsRefused() {
        assertThrows(ConfigException.class, () -> KubeProxyConfigurationLoader.parse("apiVersion: v1\nkind: ConfigMap\n"));
        ConfigException e = assertThrows(ConfigException.class, () -> KubeProxyConfigurationLoader.parse(
                "apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\n"));
        assertTrue(e.getMessage().startsWith("apiVersion"));
    }

    @ParameterizedTest
    @CsvSource({"1s,1000", "1m30s,90000", "15m0s,900000", "250ms,250", "0,0", "1h,3600000", "1.5s,1500"})
    void goDurations(String text, long millis) {
        assertEquals(millis, GoDuration.parse(text).toMillis());
    }

    @Test
    void goDurationsRoundTrip() {
        for (String text : List.of("1s", "1m30s", "15m0s", "250ms", "24h0m0s", "0s")) {
            assertEquals(text, GoDuration.format(GoDuration.parse(text)));
        }
    }
}
