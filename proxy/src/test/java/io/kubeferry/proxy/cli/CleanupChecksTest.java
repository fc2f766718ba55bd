package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolNotFoundException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.testing.FakeNetfilter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CleanupChecksTest {

    /** Answers every command with {@code result}, recording what it was asked. */
    private static final class Answering implements ToolRunner {

        final List<ToolCommand> asked = new ArrayList<>();
        final ToolResult result;

        Answering(ToolResult result) {
            this.result = result;
        }

        @Override
        public ToolResult run(ToolCommand command) {
            return runAllowingFailure(command);
        }

        @Override
        public ToolResult runAllowingFailure(ToolCommand command) {
            asked.add(command);
            return result;
        }
    }

    @Test
    void rootInAnExistingNamespaceWhereToolsRunMayAct(@TempDir Path netns) throws IOException {
        Files.createFile(netns.resolve("node"));
        Answering tools = new Answering(new ToolResult(0, "", ""));
        assertEquals(List.of(), new CleanupChecks(() -> OptionalInt.of(0), netns).problems("node", tools));
        assertEquals("true", tools.asked.get(0).tool(), "a tool was run where cleanup will act");
    }

    @Test
    void aNonRootUserIsToldItNeedsRootAndNothingIsRun(@TempDir Path netns) {
        Answering tools = new Answering(new ToolResult(0, "", ""));
        List<String> problems = new CleanupChecks(() -> OptionalInt.of(65534), netns).problems("", tools);
        assertEquals(List.of("cleanup needs root (effective uid 0) to change netfilter and IPVS state; running as uid 65534"), problems);
        assertTrue(tools.asked.isEmpty());
        assertEquals(List.of("cannot tell whether this process is root (no native POSIX access); cleanup needs root"),
                new CleanupChecks(OptionalInt::empty, netns).problems("", tools));
    }

    @Test
    void aMissingNamespaceIsNamed(@TempDir Path netns) {
        List<String> problems = new CleanupChecks(() -> OptionalInt.of(0), netns).problems("does-not-exist", new FakeNetfilter());
        assertEquals(List.of("network namespace \"does-not-exist\" does not exist (no " + netns.resolve("does-not-exist") + ")"), problems);
    }

    @Test
    void toolsThatDoNotRunAreAProblem(@TempDir Path netns) throws IOException {
        Files.createFile(netns.resolve("node"));
        CleanupChecks root = new CleanupChecks(() -> OptionalInt.of(0), netns);
        assertEquals(
                List.of("cannot run tools in network namespace node: exit 255: Cannot open network namespace \"node\": Permission denied"),
                root.problems("node",
                        new Answering(new ToolResult(255, "", "Cannot open network namespace \"node\": Permission denied\n"))));
        ToolRunner noIp = new ToolRunner() {

            @Override
            public ToolResult run(ToolCommand command) throws ToolException {
                throw new ToolNotFoundException("ip", "tool not found: ip");
            }

            @Override
            public ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
                return run(command);
            }
        };
        assertEquals(List.of("cannot run tools in network namespace node: tool not found: ip"), root.problems("node", noIp));
    }
}
