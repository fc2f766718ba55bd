package io.kubeferry.proxy.exec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessToolRunnerTest {

    private final ProcessToolRunner runner = new ProcessToolRunner("");

    @Test
    void feedsStdinAndCapturesStdout() throws Exception {
        ToolResult result = runner.run(ToolCommand.of("cat").withStdin("*nat\nCOMMIT\n"));
        assertEquals("*nat\nCOMMIT\n", result.stdout());
    }

    @Test
    void largeOutputDoesNotDeadlock() throws Exception {
        // 4 MB on stdout and stderr at once: more than any pipe buffer.
        ToolResult result = runner.run(ToolCommand.of("sh", "-c", "head -c 4000000 /dev/zero | tr '\\0' a; head -c 4000000 /dev/zero >&2"));
        assertEquals(4_000_000, result.stdout().length());
        assertEquals(4_000_000, result.stderr().length());
    }

    @Test
    void nonZeroExitCarriesStderr() {
        ToolException e = assertThrows(ToolException.class,
                () -> runner.run(ToolCommand.of("sh", "-c", "echo 'line 3 failed' >&2; exit 4")));
        assertTrue(e.getMessage().contains("exited 4"), e.getMessage());
        assertTrue(e.getMessage().contains("line 3 failed"), e.getMessage());
        assertEquals(4, e.result().exitCode());
    }

    @Test
    void allowingFailureReturnsTheResult() throws Exception {
        assertEquals(1, runner.runAllowingFailure(ToolCommand.of("false")).exitCode());
    }

    @Test
    void timeoutKillsTheTool() {
        ToolException e = assertThrows(ToolException.class,
                () -> runner.run(ToolCommand.of("sleep", "5").withTimeout(Duration.ofMillis(200))));
        assertTrue(e.getMessage().contains("timed out"), e.getMessage());
        assertNull(e.result());
    }

    /**
     * sh writes a line and exits at once; the sleep it leaves behind holds stdout and stderr open well past the
     * 300 ms limit. Two outcomes are right, and which one comes is the JDK's race, not ours: when the tool exits
     * before a reader thread is blocked in its read, the JDK's process reaper drains what is in the pipe and closes
     * it, so the run returns with every byte the tool wrote; when a reader is already blocked, the pipe stays open
     * and the run fails naming the stream. Never an empty answer, and never a wait for the sleep (the run ends by the deadline plus the output grace).
     */
    @Test
    void outputStillOpenAtTheDeadlineIsAnErrorOrTheWholeOutputNeverAnEmptyAnswer(@TempDir Path dir) throws Exception {
        Path pidFile = dir.resolve("sleep.pid");
        try {
            for (int i = 0; i < 5; i++) {
                Files.deleteIfExists(pidFile);
                ToolCommand command = ToolCommand.of("sh", "-c", "echo written; sleep 30 & echo $! > \"$1\"", "sh", pidFile.toString())
                        .withTimeout(Duration.ofMillis(300));
                try {
                    ToolResult result = runner.run(command);
                    assertEquals("written\n", result.stdout(), "the output the tool wrote before it exited");
                } catch (ToolException e) {
                    assertTrue(e.getMessage().matches("sh: (stdout|stderr) still open after the 300 ms timeout .*"), e.getMessage());
                    assertNull(e.result());
                    // The reads still blocked on the sleep's pipes run on the runner's own named daemon threads.
                    List<Thread> readers = Thread.getAllStackTraces().keySet().stream()
                            .filter(t -> t.getName().startsWith("kube-ferry-tool-output-")).toList();
                    assertTrue(!readers.isEmpty() && readers.stream().allMatch(Thread::isDaemon), readers.toString());
                } finally {
                    if (Files.exists(pidFile)) {
                        ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).ifPresent(ProcessHandle::destroy);
                    }
                }
            }
        } finally {
            Files.deleteIfExists(pidFile);
        }
    }

    @Test
    void missingToolIsNamed() {
        ToolException e = assertThrows(ToolException.class, () -> runner.run(ToolCommand.of("no-such-tool-kf")));
        assertTrue(e.getMessage().contains("tool not found: no-such-tool-kf"), e.getMessage());
    }

    @Test
    void runsTheToolTheLookupFoundNotWhatPathWouldPick(@TempDir Path dir) throws Exception {
        // A directory that is not on this process's PATH (as /usr/sbin may not be): the check finds the tool
        // there, so the runner must run it from there too.
        Path tool = dir.resolve("kf-only-here");
        Files.writeString(tool, "#!/bin/sh\necho \"ran $0\"\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        RequiredTools lookup = new RequiredTools(List.of(dir), Files::isExecutable);
        ProcessToolRunner scoped = new ProcessToolRunner("", lookup);

        assertEquals(List.of(), lookup.missing(List.of("kf-only-here")));
        assertEquals("ran " + tool, scoped.run(ToolCommand.of("kf-only-here")).stdout().strip());
        ToolException e = assertThrows(ToolException.class, () -> scoped.run(ToolCommand.of("cat")));
        assertTrue(e.getMessage().contains("tool not found: cat") && e.getMessage().contains(dir.toString()), e.getMessage());
    }
}
