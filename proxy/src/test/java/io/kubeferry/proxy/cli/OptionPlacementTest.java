package io.kubeferry.proxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.KubeProxyConfigurationLoader;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.testing.Cli;
import io.kubeferry.proxy.testing.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An option means the same before or after the subcommand, or the command line is refused: never ignored. */
class OptionPlacementTest {

    @org.junit.jupiter.api.AfterAll
    static void resetLogback() {
        LogCapture.resetLogback(); // --v given here must not raise the other tests' log levels
    }

    @ParameterizedTest
    @ValueSource(strings = {"run", "render", "cleanup"})
    void optionsBeforeAndAfterTheSubcommandMeanTheSame(String command) throws ConfigException {
        for (String[] args : new String[][] {
                {"--netns", "B", "--mode", "ipvs", "--cluster-cidr", "198.18.0.0/16", command},
                {command, "--netns", "B", "--mode", "ipvs", "--cluster-cidr", "198.18.0.0/16"},
                {"--netns", "B", command, "--mode", "ipvs", "--cluster-cidr", "198.18.0.0/16"}}) {
            Main.Invocation call = Main.parse(args);
            assertEquals(command, call.command().getCommandName(), String.join(" ", args));
            ProxyConfig c = call.options().resolve();
            assertEquals("B", c.netns(), String.join(" ", args));
            assertEquals("ipvs", c.mode(), String.join(" ", args));
            assertEquals(java.util.List.of("198.18.0.0/16"), c.clusterCIDRs());
        }
    }

    @Test
    void theSameOptionTwiceWithDifferentValuesIsAUsageError() {
        Cli.Run run = Cli.run("--netns", "A", "cleanup", "--netns", "B");
        assertEquals(2, run.code());
        assertTrue(run.err().contains("--netns is given both before and after 'cleanup' with different values (A, B)"), run.err());
        assertEquals(0, Cli.run("--v=2", "run", "--v=2", "--write-config-to=/dev/null").code(), "the same value twice is fine");
    }

    @Test
    void optionsBeforeACommandThatTakesNoneAreRefused() {
        Cli.Run run = Cli.run("--netns", "B", "version");
        assertEquals(2, run.code());
        assertTrue(run.err().contains("'version' takes none of [--netns]"), run.err());
    }

    @Test
    void unknownOptionsExitTwoWithPicocliMessage() {
        for (String[] args : new String[][] {{"--bogus"}, {"run", "--bogus"}, {"render", "--bogus"}, {"cleanup", "--bogus"}}) {
            Cli.Run run = Cli.run(args);
            assertEquals(2, run.code(), String.join(" ", args));
            assertTrue(run.err().contains("Unknown option: '--bogus'"), run.err());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "run", "render", "cleanup"})
    void writeConfigToWorksWhereverItIsPlaced(String command, @TempDir Path dir) throws Exception {
        for (int placement = 0; placement < 2; placement++) {
            Path file = dir.resolve("c" + placement + ".yaml");
            String[] flags = {"--write-config-to", file.toString(), "--proxy-mode", "ipvs", "--v=3", "--conntrack-udp-timeout=30s"};
            String[] args;
            if (command.isEmpty()) {
                args = flags;
            } else if (placement == 0) {
                args = concat(new String[] {command}, flags);
            } else {
                args = concat(flags, new String[] {command});
            }
            Cli.Run run = Cli.run(args);
            assertEquals(0, run.code(), run.err());
            JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
            assertEquals("ipvs", doc.at("/mode").asText());
            assertEquals(3, doc.at("/logging/verbosity").asInt());
            assertEquals("30s", doc.at("/conntrack/udpTimeout").asText());
            ProxyConfig back = KubeProxyConfigurationLoader.load(file);
            assertEquals("ipvs", back.mode(), "what is written reads back");
        }
    }

    @Test
    void cleanupAndInitOnlyAreRefusedWhereTheyMeanNothing() {
        Cli.Run run = Cli.run("render", "--cleanup", "-f", "x.yaml");
        assertEquals(2, run.code());
        assertTrue(run.err().contains("--cleanup applies to the agent (run), not to render"), run.err());
        assertEquals(2, Cli.run("cleanup", "--init-only").code());
    }

    @Test
    void cleanupFlagRunsTheCleanupCommandWithTheSameOptions() throws ConfigException {
        for (String[] args : new String[][] {{"--cleanup", "--netns", "B"}, {"--netns", "B", "run", "--cleanup"},
                {"run", "--cleanup=true", "--netns=B"}, {"--netns", "B", "cleanup", "--cleanup"}}) {
            Main.Invocation call = Main.parse(args);
            assertEquals("cleanup", call.command().getCommandName(), String.join(" ", args));
            assertEquals("B", call.options().resolve().netns());
        }
        assertEquals("run", Main.parse("--cleanup=false").command().getCommandName());
    }

    @ParameterizedTest
    @ValueSource(strings = {"run", "render", "cleanup", "version"})
    void everySubcommandHasHelp(String command) {
        for (String[] args : new String[][] {{command, "--help"}, {command, "-h"}, {"help", command}}) {
            Cli.Run run = Cli.run(args);
            assertEquals(0, run.code(), String.join(" ", args) + ": " + run.err());
            assertTrue(run.out().contains("Usage: kube-ferry " + command), run.out());
        }
        Cli.Run top = Cli.run("--help");
        assertEquals(0, top.code());
        assertTrue(top.out().contains("Usage: kube-ferry") && top.out().contains("--conntrack-max-per-core"), top.out());
        assertFalse(top.out().contains("--log_dir"), "no-effect flags are accepted but not advertised");
    }

    @Test
    void versionPrintsVersionCommitAndBuildDate() {
        for (String[] args : new String[][] {{"version"}, {"--version"}, {"run", "--version"}}) {
            Cli.Run run = Cli.run(args);
            assertEquals(0, run.code(), run.err());
            String line = run.out().strip();
            assertTrue(line.matches("kube-ferry \\S+ \\(commit ([0-9a-f]{7,40}|unknown), built (\\d{4}-\\d\\d-\\d\\dT\\S+Z|unknown)\\)"),
                    line);
            assertFalse(line.startsWith("kube-ferry unknown"), "the build fills in the version: " + line);
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
