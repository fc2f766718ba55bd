package io.kubeferry.proxy.cli;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.KubeProxyConfigurationWriter;
import io.kubeferry.proxy.testing.Cli;
import io.kubeferry.proxy.testing.DocumentLeaves;
import io.kubeferry.proxy.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kube-proxy 1.35's command line, taken from upstream's flag list, is kube-ferry's. */
class KubeProxyFlagsTest {

    /** Upstream flags that set nothing in kube-ferry: each gets exactly one WARN line naming it. */
    private static final Set<String> NO_EFFECT = Set.of("--bind-address", "--bind-address-hard-fail", "--profiling",
            "--show-hidden-metrics-for-version", "--pod-bridge-interface", "--pod-interface-name-prefix",
            "--log-flush-frequency", "--vmodule", "--log-text-split-stream", "--log-text-info-buffer-size",
            "--log-json-split-stream", "--log-json-info-buffer-size", "--boot-id-file", "--machine-id-file",
            "--windows-service", "--source-vip", "--network-name", "--enable-dsr", "--root-hnsendpoint-name",
            "--forward-healthcheck-vip");

    /** klog's flags, gone from kube-proxy 1.35 but passed by older DaemonSets: accepted the same way. */
    private static final List<String> KLOG = List.of("--add_dir_header", "--alsologtostderr", "--log_backtrace_at=:0",
            "--log_dir=/var/log", "--log_file=/var/log/kube-proxy.log", "--log_file_max_size=1800", "--logtostderr",
            "--one_output", "--skip_headers", "--skip_log_headers", "--stderrthreshold=2");

    static List<String> upstreamFlags() throws IOException {
        try (InputStream in = KubeProxyFlagsTest.class.getResourceAsStream("/kube-proxy-1.35-flags.txt")) {
            assertNotNull(in, "kube-proxy-1.35-flags.txt");
            List<String> lines = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    lines.add(line.strip());
                }
            }
            return lines;
        }
    }

    private static String name(String flag) {
        return flag.contains("=") ? flag.substring(0, flag.indexOf('=')) : flag;
    }

    /** The modes are the registered dataplanes' (this module's tests register an iptables and an ipvs stub). */
    @Test
    void aModeNoDataplaneRegisteredIsRefusedNamingTheModesThatAre(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws IOException {
        ConfigException flag = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> Main.parse(new String[] {"--proxy-mode", "userspace"}).options().resolve());
        assertEquals("mode: must be \"iptables\" or \"ipvs\", got \"userspace\"", flag.getMessage());
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("config.yaml"),
                "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: userspace\n");
        ConfigException inFile = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> Main.parse(new String[] {"--config", file.toString()}).options().resolve());
        assertEquals(flag.getMessage(), inFile.getMessage());
    }

    @Test
    void everyUpstreamFlagParsesBeforeAfterAndWithoutTheRunCommand() throws IOException {
        List<String> flags = upstreamFlags();
        assertTrue(flags.size() > 60, "the whole list: " + flags.size());
        for (String flag : flags) {
            for (String[] args : List.of(new String[] {flag}, new String[] {flag, "run"}, new String[] {"run", flag})) {
                Main.Invocation call = Main.parse(args);
                Class<?> expected = flag.equals("--cleanup") ? CleanupCommand.class : RunCommand.class;
                assertTrue(expected.isInstance(call.command().getCommand()), String.join(" ", args));
            }
        }
    }

    @Test
    void allTheFlagsTogetherGiveOneConfigurationAndOneWarningPerNoEffectFlag() throws Exception {
        List<String> args = new ArrayList<>();
        for (String flag : upstreamFlags()) {
            // Actions (help, version, cleanup, writing, init-only) and the file are tried one by one above.
            if (!Set.of("-h", "--help", "--version", "--cleanup", "--init-only", "-v=2").contains(flag)
                    && !flag.startsWith("--config=") && !flag.startsWith("--write-config-to=")) {
                args.add(flag);
            }
        }
        args.addAll(KLOG);
        ConfigOptions options = Main.parse(args.toArray(String[]::new)).options();
        var config = options.resolve();
        try (LogCapture log = new LogCapture(StartupWarnings.class)) {
            StartupWarnings.log(options, config);
            List<String> warnings = log.lines(Level.WARN);
            List<String> noEffect = new ArrayList<>(NO_EFFECT);
            KLOG.forEach(k -> noEffect.add(name(k)));
            for (String flag : noEffect) {
                long lines = warnings.stream().filter(w -> w.startsWith("kube-proxy flag " + flag + "=")).count();
                assertEquals(1, lines, flag + " in " + warnings);
            }
            assertEquals(noEffect.size(), warnings.stream().filter(w -> w.startsWith("kube-proxy flag")).count(), warnings.toString());
            assertTrue(warnings.stream().anyMatch(w -> w.contains("featureGates {OtherGate=false, SomeGate=true}")), warnings.toString());
            assertTrue(warnings.stream().anyMatch(w -> w.contains("qps=10.0 and burst=20 are not applied")), warnings.toString());
            assertTrue(warnings.stream().noneMatch(w -> w.contains("config fields")), "the flags are not reported twice");
        }
        JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(KubeProxyConfigurationWriter.yaml(config));
        assertEquals("198.18.0.10", doc.at("/bindAddress").asText(), "a no-effect flag still shows in the written config");
        assertTrue(doc.at("/enableProfiling").asBoolean());
        assertEquals("cbr0", doc.at("/winkernel/networkName").asText());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "--hostname-override=Node-B|/hostnameOverride|node-b",
            "--kubeconfig=/k.conf|/clientConnection/kubeconfig|/k.conf",
            "--kube-api-qps=7.5|/clientConnection/qps|7.5",
            "--kube-api-burst=30|/clientConnection/burst|30",
            "--kube-api-content-type=application/json|/clientConnection/contentType|application/json",
            "--healthz-bind-address=198.18.0.1:1234|/healthzBindAddress|198.18.0.1:1234",
            "--metrics-bind-address=0.0.0.0:9999|/metricsBindAddress|0.0.0.0:9999",
            "--healthz-port=4321|/healthzBindAddress|0.0.0.0:4321",
            "--metrics-port=0|/metricsBindAddress|''",
            "--proxy-mode=ipvs|/mode|ipvs",
            "--iptables-masquerade-bit=9|/iptables/masqueradeBit|9",
            "--masquerade-all|/iptables/masqueradeAll|true",
            "--iptables-localhost-nodeports=false|/iptables/localhostNodePorts|false",
            "--iptables-sync-period=1m30s|/iptables/syncPeriod|1m30s",
            "--iptables-min-sync-period=0|/iptables/minSyncPeriod|0s",
            "--ipvs-sync-period=45s|/ipvs/syncPeriod|45s",
            "--ipvs-min-sync-period=2s|/ipvs/minSyncPeriod|2s",
            "--ipvs-scheduler=wlc|/ipvs/scheduler|wlc",
            "--ipvs-exclude-cidrs=198.19.0.0/24|/ipvs/excludeCIDRs/0|198.19.0.0/24",
            "--ipvs-strict-arp|/ipvs/strictARP|true",
            "--ipvs-tcp-timeout=15m|/ipvs/tcpTimeout|15m0s",
            "--ipvs-tcpfin-timeout=2m|/ipvs/tcpFinTimeout|2m0s",
            "--ipvs-udp-timeout=5m|/ipvs/udpTimeout|5m0s",
            "--detect-local-mode=ClusterCIDR|/detectLocalMode|ClusterCIDR",
            "--cluster-cidr=198.18.128.0/17|/clusterCIDR|198.18.128.0/17",
            "--nodeport-addresses=198.18.0.0/24,primary|/nodePortAddresses/1|primary",
            "--oom-score-adj=-500|/oomScoreAdj|-500",
            "--conntrack-max-per-core=0|/conntrack/maxPerCore|0",
            "--conntrack-min=1000|/conntrack/min|1000",
            "--conntrack-tcp-timeout-established=2h|/conntrack/tcpEstablishedTimeout|2h0m0s",
            "--conntrack-tcp-timeout-close-wait=30m|/conntrack/tcpCloseWaitTimeout|30m0s",
            "--conntrack-tcp-be-liberal|/conntrack/tcpBeLiberal|true",
            "--conntrack-udp-timeout=30s|/conntrack/udpTimeout|30s",
            "--conntrack-udp-timeout-stream=2m|/conntrack/udpStreamTimeout|2m0s",
            "--config-sync-period=5m|/configSyncPeriod|5m0s",
            "--feature-gates=A=true,B=false|/featureGates/B|false",
            "--v=4|/logging/verbosity|4",
            "-v=3|/logging/verbosity|3",
            "-v 5|/logging/verbosity|5",
            "--logging-format=json|/logging/format|json"})
    void aFlagLandsInItsKubeProxyConfigurationField(String flag, String pointer, String expected) throws Exception {
        String[] args = flag.contains("=") ? new String[] {flag} : flag.split(" ");
        var config = Main.parse(args).options().resolve();
        JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(KubeProxyConfigurationWriter.yaml(config));
        assertEquals(expected, doc.at(pointer).asText(), pointer + " in\n" + KubeProxyConfigurationWriter.yaml(config));
    }

    /**
     * The same flags given to kube-proxy 1.35.4 and to kube-ferry write the same KubeProxyConfiguration, but
     * where kube-ferry keeps a setting upstream drops (upstream keeps only the active mode's sync period).
     */
    @Test
    void theSameFlagsWriteWhatKubeProxyWrites() throws Exception {
        String upstream;
        try (InputStream in = getClass().getResourceAsStream("/kube-proxy-1.35-write-config-to-flags.yaml")) {
            upstream = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String flags = upstream.lines().skip(1).findFirst().orElseThrow().substring(2);
        var config = Main.parse(flags.split(" ")).options().resolve();
        var theirs = DocumentLeaves.of(upstream);
        var ours = DocumentLeaves.of(KubeProxyConfigurationWriter.yaml(config));
        assertEquals(theirs.keySet(), ours.keySet());
        assertEquals(java.util.Map.of("/iptables/syncPeriod", "0s -> 1m30s"), DocumentLeaves.differing(theirs, ours));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--iptables-sync-period=10 seconds|Invalid value for option '--iptables-sync-period'",
            "--iptables-masquerade-bit=40|iptables.masqueradeBit: must be within [0, 31]",
            "--oom-score-adj=5000|oomScoreAdj: must be within [-1000, 1000]",
            "--logging-format=xml|logging.format: unsupported log format",
            "--detect-local-mode=NodeCIDR|detectLocalMode: kube-ferry supports ClusterCIDR",
            "--feature-gates=Gate|featureGates: expected key=true|false",
            "--no-such-flag|Unknown option: '--no-such-flag'"})
    void badValuesAreUsageErrors(String flag, String message) {
        Cli.Run run = Cli.run(flag, "--write-config-to=/dev/null");
        assertEquals(2, run.code(), run.err());
        assertTrue(run.err().contains(message), run.err());
    }

    @Test
    void aBooleanFlagTakesAnExplicitValueAsPflagDoes() throws ConfigException {
        assertEquals(false, Main.parse("--masquerade-all=false").options().resolve().iptables().masqueradeAll());
        assertEquals(true, Main.parse("--masquerade-all", "run").options().resolve().iptables().masqueradeAll());
        assertEquals(true, Main.parse("--ipvs-strict-arp", "--proxy-mode", "ipvs").options().resolve().ipvs().strictARP());
    }

    @Test
    void aFlagNamedWithDashesOrUnderscoresIsTheSameKlogFlag() {
        assertEquals("/var/log", Main.parse("--log-dir=/var/log").options().noEffectFlags().get("--log_dir"));
        assertEquals("/var/log", Main.parse("--log_dir=/var/log").options().noEffectFlags().get("--log_dir"));
    }

    @Test
    void noEffectFlagsAreExactlyTheUpstreamFlagsKubeFerryDoesNotActOn() throws IOException {
        List<String> upstream = upstreamFlags().stream().map(KubeProxyFlagsTest::name).toList();
        for (String flag : NO_EFFECT) {
            assertTrue(upstream.contains(flag), flag + " is an upstream flag");
        }
        for (String flag : KLOG) {
            assertTrue(!upstream.contains(name(flag)), flag + " is not a kube-proxy 1.35 flag");
        }
        List<String> declared = new ArrayList<>();
        for (var f : ConfigOptions.class.getDeclaredFields()) {
            ConfigOptions.NoEffect n = f.getAnnotation(ConfigOptions.NoEffect.class);
            if (n != null) {
                declared.add(ConfigOptions.flagOf(f));
            }
        }
        Set<String> expected = new java.util.HashSet<>(NO_EFFECT);
        KLOG.forEach(k -> expected.add(name(k)));
        assertEquals(expected, Set.copyOf(declared));
    }
}
