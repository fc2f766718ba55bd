package io.kubeferry.proxy.exec;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One invocation of a netfilter tool: a program name and its arguments as separate strings (never a
 * shell line), optional standard input, and a time limit.
 *
 * @param tool    the program, e.g. {@code iptables-restore}
 * @param args    its arguments, one element each
 * @param stdin   bytes for standard input (empty for none)
 * @param timeout how long the tool may run before it is killed
 */
public record ToolCommand(String tool, List<String> args, byte[] stdin, Duration timeout) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public ToolCommand {
        Objects.requireNonNull(tool, "tool");
        args = List.copyOf(args);
        stdin = stdin == null ? new byte[0] : stdin;
        timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
    }

    public static ToolCommand of(String tool, String... args) {
        return new ToolCommand(tool, List.of(args), null, null);
    }

    public ToolCommand withStdin(String text) {
        return new ToolCommand(tool, args, text.getBytes(StandardCharsets.UTF_8), timeout);
    }

    public ToolCommand withTimeout(Duration limit) {
        return new ToolCommand(tool, args, stdin, limit);
    }

    public String stdinText() {
        return new String(stdin, StandardCharsets.UTF_8);
    }

    /** The command line, for logs and error messages (arguments are not quoted: display only). */
    public String display() {
        List<String> all = new ArrayList<>();
        all.add(tool);
        all.addAll(args);
        return String.join(" ", all);
    }
}
