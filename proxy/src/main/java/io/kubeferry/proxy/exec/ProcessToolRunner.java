package io.kubeferry.proxy.exec;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs tools as child processes: an argument list (never a shell), stdin fed, stdout and stderr drained
 * concurrently (so a large iptables-save cannot deadlock on a full pipe), and a hard time limit.
 * With a network namespace name, each command runs as {@code ip netns exec NS tool args...}.
 * Tools are found by the same {@link RequiredTools} lookup the start-up check uses and run by absolute path,
 * so a tool the check found is the tool that runs, whatever this process's PATH lacks.
 * <p>
 * The output is read on this runner's own daemon threads ("kube-ferry-tool-output-N"), not the shared
 * ForkJoin pool: a read blocks until the pipe closes, and blocked reads there would starve every other user
 * of the common pool. Output still open at the command's deadline (a child of the tool kept the pipe) is an
 * error, never an empty answer that would read as "no rules".
 */
public final class ProcessToolRunner implements ToolRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessToolRunner.class);
    /** Time the output gets after the tool exited, even when the exit came at its deadline. */
    private static final long OUTPUT_GRACE_MILLIS = 1000;

    private final String netns;
    private final RequiredTools lookup;
    /** Each tool's absolute path, found once; a tool not found is looked for again next time. */
    private final Map<String, Path> resolved = new ConcurrentHashMap<>();
    /** Two blocking reads per running tool; idle threads end after a minute. */
    private final ExecutorService outputReaders = Executors.newCachedThreadPool(daemonThreads("kube-ferry-tool-output-"));

    /** @param netns a named network namespace to run in, or "" for the current one */
    public ProcessToolRunner(String netns) {
        this(netns, RequiredTools.fromEnvironment());
    }

    public ProcessToolRunner(String netns, RequiredTools lookup) {
        this.netns = netns == null ? "" : netns;
        this.lookup = lookup;
    }

    public String netns() {
        return netns;
    }

    @Override
    public java.util.Optional<String> missingTools(String mode, java.util.Collection<String> tools) {
        return lookup.why(mode, tools);
    }

    @Override
    public ToolResult run(ToolCommand command) throws ToolException {
        ToolResult result = runAllowingFailure(command);
        if (!result.ok()) {
            throw new ToolException(command.display() + " exited " + result.exitCode() + ": " + firstLines(result.stderr()), result);
        }
        return result;
    }

    @Override
    public ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
        List<String> argv = new ArrayList<>();
        if (!netns.isEmpty()) {
            argv.addAll(List.of(path("ip"), "netns", "exec", netns));
        }
        argv.add(path(command.tool()));
        argv.addAll(command.args());
        long start = System.nanoTime();
        long deadline = start + command.timeout().toNanos();
        Process process;
        try {
            process = new ProcessBuilder(argv).start();
        } catch (IOException e) {
            throw new ToolException("tool not found: " + command.tool() + " (" + e.getMessage() + ")", null, e);
        }
        CompletableFuture<byte[]> stdout = drain(process.getInputStream());
        CompletableFuture<byte[]> stderr = drain(process.getErrorStream());
        try (OutputStream in = process.getOutputStream()) {
            in.write(command.stdin());
        } catch (IOException e) {
            // The tool exited before reading all input; its exit status and stderr tell why.
            LOG.debug("{}: stdin closed early: {}", command.tool(), e.getMessage());
        }
        try {
            if (!process.waitFor(command.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroy();
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
                throw new ToolException(command.display() + " timed out after " + command.timeout().toMillis() + " ms", null);
            }
            long readUntil = Math.max(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(OUTPUT_GRACE_MILLIS));
            ToolResult result = new ToolResult(process.exitValue(), text(command, "stdout", stdout, readUntil),
                    text(command, "stderr", stderr, readUntil));
            if (LOG.isDebugEnabled()) {
                LOG.debug("ran {} -> {} in {} ms", command.display(), result.exitCode(), (System.nanoTime() - start) / 1_000_000);
            }
            return result;
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new ToolException(command.display() + " interrupted", null, e);
        }
    }

    /** The absolute path the tool runs from; the same answer the start-up check gave. */
    private String path(String tool) throws ToolException {
        if (tool.contains("/")) {
            return tool;
        }
        Path found = resolved.get(tool);
        if (found == null) {
            found = lookup.locate(tool).orElseThrow(() -> new ToolNotFoundException(tool, "tool not found: " + tool
                    + " (looked in " + lookup.searchPath() + ")"));
            resolved.put(tool, found);
        }
        return found.toString();
    }

    private CompletableFuture<byte[]> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                stream.transferTo(out);
                return out.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, outputReaders);
    }

    /** One stream's text once it closed, by readUntil (System.nanoTime); else why not, as a ToolException. */
    private static String text(ToolCommand command, String stream, CompletableFuture<byte[]> bytes, long readUntil)
            throws ToolException, InterruptedException {
        try {
            return new String(bytes.get(Math.max(0, readUntil - System.nanoTime()), TimeUnit.NANOSECONDS), StandardCharsets.UTF_8);
        } catch (TimeoutException e) {
            bytes.cancel(true);
            throw new ToolException(command.tool() + ": " + stream + " still open after the " + command.timeout().toMillis()
                    + " ms timeout (the tool exited; a process it started holds the pipe): " + command.display(), null, e);
        } catch (ExecutionException e) {
            throw new ToolException(command.tool() + ": reading " + stream + " failed: " + e.getCause().getMessage(), null, e.getCause());
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    private static String firstLines(String text) {
        String trimmed = text.strip();
        return trimmed.length() > 2000 ? trimmed.substring(0, 2000) + "..." : trimmed;
    }
}
