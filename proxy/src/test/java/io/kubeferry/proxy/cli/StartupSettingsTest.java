package io.kubeferry.proxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.testing.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What start-up applies besides the dataplane: log levels and format, oom_score_adj, the start-up warnings. */
class StartupSettingsTest {

    private static LoggerContext context() {
        return (LoggerContext) LoggerFactory.getILoggerFactory();
    }

    @org.junit.jupiter.api.BeforeEach
    @AfterEach
    void resetLogback() {
        LogCapture.resetLogback();
    }

    @Test
    void verbosityMapsToLevelsAsKlogUsersExpect() {
        LogSettings.apply(new ProxyConfig.Logging("text", 4));
        LogSettings.apply(new ProxyConfig.Logging("text", 1));
        assertEquals(Level.INFO, context().getLogger("io.kubeferry").getEffectiveLevel());
        assertEquals(Level.WARN, context().getLogger("io.fabric8").getEffectiveLevel());

        LogSettings.apply(new ProxyConfig.Logging("text", 2));
        assertEquals(Level.DEBUG, context().getLogger("io.kubeferry.proxy.sync").getEffectiveLevel());
        assertEquals(Level.INFO, context().getLogger("io.kubeferry.proxy.exec").getEffectiveLevel(), "tool lines from 4 on");
        assertEquals(Level.WARN, context().getLogger("io.fabric8").getEffectiveLevel());

        LogSettings.apply(new ProxyConfig.Logging("text", 4));
        assertEquals(Level.DEBUG, context().getLogger("io.kubeferry.proxy.exec").getEffectiveLevel());
        assertEquals(Level.INFO, context().getLogger("io.fabric8").getEffectiveLevel());

        LogSettings.apply(new ProxyConfig.Logging("text", 6));
        assertEquals(Level.TRACE, context().getLogger("io.kubeferry").getEffectiveLevel());
    }

    @Test
    void jsonFormatGivesOneParseableJsonObjectPerLine() throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            LogSettings.apply(new ProxyConfig.Logging("json", 0));
            org.slf4j.Logger log = LoggerFactory.getLogger("io.kubeferry.test");
            log.info("first {} with \"quotes\"\nand a newline", "line");
            log.warn("second", new IllegalStateException("boom"));
        } finally {
            System.setErr(err);
        }
        List<JsonNode> lines = new ArrayList<>();
        for (String line : captured.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(new ObjectMapper().readTree(line));
            }
        }
        assertEquals(2, lines.size(), captured.toString(StandardCharsets.UTF_8));
        assertEquals("INFO", lines.get(0).get("level").asText());
        assertEquals("first line with \"quotes\"\nand a newline", lines.get(0).get("formattedMessage").asText());
        assertEquals("io.kubeferry.test", lines.get(0).get("loggerName").asText());
        assertEquals("WARN", lines.get(1).get("level").asText());
        assertTrue(lines.get(1).get("throwable").toString().contains("boom"));
    }

    @Test
    void theConfigFilesLoggingSectionAppliesToo(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("c.yaml"), """
                apiVersion: kubeproxy.config.k8s.io/v1alpha1
                kind: KubeProxyConfiguration
                logging: {format: json, verbosity: 5}
                enableProfiling: true
                portRange: 30000-32767
                """);
        ProxyConfig c = Main.parse("--config", file.toString()).options().resolve();
        assertEquals(new ProxyConfig.Logging("json", 5), c.logging());
        ProxyConfig flagsWin = Main.parse("--config", file.toString(), "--v=1", "--logging-format=text").options().resolve();
        assertEquals(new ProxyConfig.Logging("text", 1), flagsWin.logging());

        ConfigOptions options = Main.parse("--config", file.toString(), "--profiling").options();
        try (LogCapture log = new LogCapture(StartupWarnings.class)) {
            StartupWarnings.log(options, options.resolve());
            List<String> warnings = log.lines(Level.WARN);
            assertEquals(List.of("kube-proxy flag --profiling=true has no effect in kube-ferry: ignored",
                    "config fields accepted for compatibility but not used by kube-ferry: [portRange=30000-32767]"), warnings,
                    "one line per flag, one line for the file's fields; enableProfiling is named once, by its flag");
        }
    }

    @Test
    void oomScoreAdjIsWrittenOrLoggedWhenItCannotBe(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("oom_score_adj"), "0\n");
        assertTrue(new OomScoreAdj(file).apply(-999));
        assertEquals("-999", Files.readString(file));
        assertFalse(new OomScoreAdj(dir.resolve("missing").resolve("oom_score_adj")).apply(-999), "not permitted: logged, not fatal");
    }

    @Test
    void ipvsTimeoutsAreSetOnlyWhenOneIsGiven() {
        ProxyConfig.Ipvs defaults = ProxyConfig.defaults().ipvs();
        assertTrue(IpvsTimeouts.command(defaults).isEmpty(), "all 0: left as the kernel has them");
        ProxyConfig.Ipvs some = new ProxyConfig.Ipvs("", defaults.syncPeriod(), defaults.minSyncPeriod(), List.of(), false,
                java.time.Duration.ofMinutes(15), java.time.Duration.ZERO, java.time.Duration.ofMinutes(5));
        assertEquals("ipvsadm --set 900 0 300", IpvsTimeouts.command(some).orElseThrow().display());
    }
}
