package io.kubeferry.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubeferry.proxy.testing.DocumentLeaves;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KubeProxyConfigurationWriterTest {

    /** Every field set to something other than its default. */
    private static final String FULL = """
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            bindAddress: 198.18.0.10
            bindAddressHardFail: true
            clientConnection:
              acceptContentTypes: application/json
              burst: 20
              contentType: application/json
              kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
              qps: 7.5
            clusterCIDR: 198.18.128.0/17
            configSyncPeriod: 5m0s
            conntrack:
              maxPerCore: 0
              min: 1000
              tcpBeLiberal: true
              tcpCloseWaitTimeout: 30m0s
              tcpEstablishedTimeout: 2h0m0s
              udpStreamTimeout: 2m0s
              udpTimeout: 30s
            detectLocal:
              bridgeInterface: cbr0
              interfaceNamePrefix: veth
            detectLocalMode: ClusterCIDR
            enableProfiling: true
            featureGates:
              SomeGate: true
            healthzBindAddress: 198.18.0.1:10256
            hostnameOverride: "node-7 \\"quoted\\"\\nline"
            iptables:
              localhostNodePorts: false
              masqueradeAll: true
              masqueradeBit: 9
              minSyncPeriod: 0s
              syncPeriod: 1m30s
            ipvs:
              excludeCIDRs: [198.19.99.0/24]
              minSyncPeriod: 2s
              scheduler: wlc
              strictARP: true
              syncPeriod: 45s
              tcpFinTimeout: 2m0s
              tcpTimeout: 15m0s
              udpTimeout: 5m0s
            logging:
              flushFrequency: 10s
              format: json
              options:
                json: {infoBufferSize: "1Ki", splitStream: true}
                text: {infoBufferSize: "0", splitStream: false}
              verbosity: 4
              vmodule: []
            metricsBindAddress: 0.0.0.0:10249
            mode: ipvs
            nftables: {masqueradeAll: false, masqueradeBit: 15, minSyncPeriod: 0s, syncPeriod: 0s}
            nodePortAddresses: [198.18.0.0/24, primary]
            oomScoreAdj: -500
            portRange: ""
            showHiddenMetricsForVersion: "1.34"
            winkernel: {enableDSR: true, forwardHealthCheckVip: false, networkName: "", rootHnsEndpointName: "", sourceVip: ""}
            windowsRunAsService: false
            """;

    @Test
    void defaultsWrittenThenReadAreTheDefaults() throws ConfigException {
        ProxyConfig defaults = ProxyConfig.defaults();
        assertEquals(defaults, KubeProxyConfigurationLoader.parse(KubeProxyConfigurationWriter.yaml(defaults)));
    }

    @Test
    void aFullFileReadWrittenAndReadIsTheSame() throws ConfigException {
        ProxyConfig first = KubeProxyConfigurationLoader.parse(FULL);
        String written = KubeProxyConfigurationWriter.yaml(first);
        ProxyConfig second = KubeProxyConfigurationLoader.parse(written);
        assertEquals(first, second, written);
        assertEquals(written, KubeProxyConfigurationWriter.yaml(second));
        assertEquals("node-7 \"quoted\"\nline", second.hostnameOverride(), "strings are escaped, not pasted");
        assertEquals(new ProxyConfig.Conntrack(0, 1000, Duration.ofHours(2), Duration.ofMinutes(30), true,
                Duration.ofSeconds(30), Duration.ofMinutes(2)), second.conntrack());
        assertEquals(
                new ProxyConfig.ClientConnection("application/json", 20, "application/json", "/var/lib/kube-proxy/kubeconfig.conf", 7.5f),
                second.clientConnection());
        assertEquals(List.of("json", 4), List.of(second.logging().format(), second.logging().verbosity()));
        assertEquals(Map.of("SomeGate", true), second.featureGates());
        assertEquals(-500, second.oomScoreAdj());
        assertEquals(Map.of("bindAddress", "198.18.0.10", "bindAddressHardFail", "true", "clientConnection.acceptContentTypes",
                "application/json", "detectLocal.bridgeInterface", "cbr0", "detectLocal.interfaceNamePrefix", "veth",
                "enableProfiling", "true", "logging.flushFrequency", "10s", "logging.options.json.infoBufferSize", "1Ki",
                "logging.options.json.splitStream", "true"), withoutTwo(second.unused()));
        assertEquals(15, second.nftables().masqueradeBit(), "nftables mode's own masquerade bit is applied, not reported unused");
    }

    private static Map<String, String> withoutTwo(Map<String, String> unused) {
        Map<String, String> m = new java.util.TreeMap<>(unused);
        assertEquals("1.34", m.remove("showHiddenMetricsForVersion"));
        assertEquals("true", m.remove("winkernel.enableDSR"));
        return m;
    }

    @Test
    void everyUpstreamFieldIsWritten() throws Exception {
        JsonNode doc = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                .readTree(KubeProxyConfigurationWriter.yaml(ProxyConfig.defaults()));
        for (String pointer : List.of("/ipvs/tcpTimeout", "/ipvs/tcpFinTimeout", "/ipvs/udpTimeout", "/conntrack/maxPerCore",
                "/conntrack/min", "/conntrack/tcpBeLiberal", "/conntrack/udpTimeout", "/conntrack/udpStreamTimeout",
                "/conntrack/tcpEstablishedTimeout", "/conntrack/tcpCloseWaitTimeout", "/logging/format", "/logging/verbosity",
                "/clientConnection/qps", "/clientConnection/burst", "/clientConnection/contentType",
                "/oomScoreAdj", "/detectLocalMode", "/bindAddress", "/iptables/localhostNodePorts", "/winkernel/sourceVip")) {
            assertTrue(!doc.at(pointer).isMissingNode(), pointer);
        }
        assertEquals("24h0m0s", doc.at("/conntrack/tcpEstablishedTimeout").asText());
        assertEquals(-999, doc.at("/oomScoreAdj").asInt());
        assertEquals("application/vnd.kubernetes.protobuf", doc.at("/clientConnection/contentType").asText());
        assertEquals(5, doc.at("/clientConnection/qps").asInt());
    }

    @Test
    void theJsonFormIsUpstreamsConfigzShape() throws Exception {
        JsonNode doc = new ObjectMapper().readTree(KubeProxyConfigurationWriter.json(ProxyConfig.defaults().withMode("ipvs")));
        assertEquals("ipvs", doc.at("/kubeproxy.config.k8s.io/mode").asText());
        assertEquals(14, doc.at("/kubeproxy.config.k8s.io/iptables/masqueradeBit").asInt());
    }

    @Test
    void theBundledManifestsConfigsLoadWithNothingUnused() throws ConfigException {
        for (String file : List.of("../manifests/base/config.conf", "../manifests/overlays/ipvs/config.conf")) {
            ProxyConfig c = KubeProxyConfigurationLoader.load(java.nio.file.Path.of(file));
            assertEquals(Map.of(), c.unused(), file);
        }
    }

    @Test
    void kubeProxysOwnWrittenConfigLoadsAndKubeFerrysDefaultsDifferFromItOnlyWhereTheyMust() throws Exception {
        String upstream;
        try (var in = getClass().getResourceAsStream("/kube-proxy-1.35-write-config-to.yaml")) {
            upstream = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        ProxyConfig read = KubeProxyConfigurationLoader.parse(upstream);
        assertEquals(ProxyConfig.defaults(), read, "kube-proxy 1.35's defaults are kube-ferry's");
        Map<String, String> theirs = DocumentLeaves.of(upstream);
        Map<String, String> ours = DocumentLeaves.of(KubeProxyConfigurationWriter.yaml(ProxyConfig.defaults()));
        assertEquals(theirs.keySet(), ours.keySet(), "the same fields");
        // kube-ferry keeps each mode's sync period; upstream writes only the active mode's and 0s for the other.
        assertEquals(Map.of("/ipvs/syncPeriod", "0s -> 30s"), DocumentLeaves.differing(theirs, ours));
        assertTrue(KubeProxyConfigurationWriter.yaml(ProxyConfig.defaults()).contains("\nkind: KubeProxyConfiguration\nlogging:"),
                "keys sorted as upstream writes them");
    }

    @Test
    void unknownFieldsInsideUnusedSectionsAreStillErrors() {
        ConfigException e = assertThrows(ConfigException.class, () -> KubeProxyConfigurationLoader.parse(
                "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nwinkernel: {typo: 1}\n"));
        assertEquals("unknown field \"winkernel.typo\"", e.getMessage());
    }
}
