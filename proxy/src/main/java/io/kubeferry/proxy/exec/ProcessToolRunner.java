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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs tools as child processes: an argument list (never a shell), stdin fed, stdout and stderr drained
 * concurrently (so a large iptables-save cannot deadlock on a full pipe), and a hard time limit.
 * With a network namespace name, each command runs as {@code ip netns exec NS tool args...}.
 * Tools are found by the same {@link RequiredTools} lookup the start-up check uses and run by absolute path,
 * so a tool the check found is the tool that runs, whatever this process's PATH lacks.
 */
public final class ProcessToolRunner implements ToolRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessToolRunner.class);

    private final String netns;
    private final RequiredTools lookup;
    /** Each tool's absolute path, found once; a tool not found is looked for again next time. */
    private final Map<String, Path> resolved = new ConcurrentHashMap<>();

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
            ToolResult result = new ToolResult(process.exitValue(), text(stdout), text(stderr));
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

    private static CompletableFuture<byte[]> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                stream.transferTo(out);
                return out.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static String text(CompletableFuture<byte[]> bytes) {
        try {
            return new String(bytes.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        } catch (Exception e) {
            return "";
        }
    }

    private static String firstLines(String text) {
        String trimmed = text.strip();
        return trimmed.length() > 2000 ? trimmed.substring(0, 2000) + "..." : trimmed;
    }
}
