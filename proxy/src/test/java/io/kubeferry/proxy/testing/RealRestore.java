package io.kubeferry.proxy.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks programs with the real {@code iptables-nft-restore --test} and {@code iptables-legacy-restore --test}
 * inside a network namespace of its own (created on open, deleted on close), so nothing on the machine's
 * own namespace is read or changed. Needs root; {@link #unavailable()} says why not where it cannot run.
 */
public final class RealRestore implements AutoCloseable {

    public static final List<String> TOOLS = List.of("iptables-nft-restore", "iptables-legacy-restore");
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Pattern ERROR_LINE = Pattern.compile("line:? (\\d+)");

    private final String namespace;

    private RealRestore(String namespace) {
        this.namespace = namespace;
    }

    /** Why the real tools cannot be used here, or null when they can. */
    public static String unavailable() {
        try {
            Result id = exec(List.of("id", "-u"), "");
            if (!id.out().strip().equals("0")) {
                return "not root (network namespaces and iptables-restore --test need root)";
            }
            for (String tool : TOOLS) {
                if (exec(List.of("sh", "-c", "command -v " + tool), "").code() != 0) {
                    return tool + " is not installed";
                }
            }
            return null;
        } catch (IOException e) {
            return "cannot run tools: " + e.getMessage();
        }
    }

    /** A fresh namespace named {@code prefix-<pid>-<n>}. */
    public static RealRestore open(String prefix) throws IOException {
        String ns = prefix + "-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        Result add = exec(List.of("ip", "netns", "add", ns), "");
        if (add.code() != 0) {
            throw new IOException("ip netns add " + ns + ": " + add.err());
        }
        return new RealRestore(ns);
    }

    /**
     * Runs {@code tool --test --noflush} on the program in the namespace.
     *
     * @return null when the tool accepts it, else its complaint with the offending line of the program
     */
    public String rejection(String tool, String program) throws IOException {
        return rejection(List.of(tool, "--test", "--noflush"), program);
    }

    /**
     * Runs any command in the namespace (e.g. {@code ipset restore -exist}, so the sets an IPVS-mode
     * program matches on exist there).
     *
     * @return null when it succeeds, else its complaint with the offending line of the input
     */
    public String rejection(List<String> command, String program) throws IOException {
        List<String> full = new java.util.ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(command);
        Result r = exec(full, program);
        if (r.code() == 0) {
            return null;
        }
        String message = String.join(" ", command) + " exited " + r.code() + ": " + r.err().strip();
        Matcher m = ERROR_LINE.matcher(r.err());
        if (m.find()) {
            int line = Integer.parseInt(m.group(1));
            String[] lines = program.split("\n", -1);
            if (line >= 1 && line <= lines.length) {
                message += "\n  line " + line + ": " + lines[line - 1];
            }
        }
        return message;
    }

    @Override
    public void close() throws IOException {
        exec(List.of("ip", "netns", "del", namespace), "");
    }

    private record Result(int code, String out, String err) {
    }

    private static Result exec(List<String> command, String stdin) throws IOException {
        Process p = new ProcessBuilder(command).start();
        // Write stdin from another thread: a large program must not dead-lock against a full stderr pipe.
        Thread writer = new Thread(() -> {
            try (var in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // The tool exited early; its exit code and stderr say why.
            }
        });
        writer.start();
        try {
            var out = p.getInputStream().readAllBytes();
            var err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command + " timed out");
            }
            writer.join();
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException(command + " interrupted", e);
        }
    }
}
