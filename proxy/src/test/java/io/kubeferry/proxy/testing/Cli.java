package io.kubeferry.proxy.testing;

import io.kubeferry.proxy.cli.Main;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Runs the command line with stdout and stderr captured (and stdin given, for {@code -f -}). Shared with the
 * backend modules' tests; one lock for all of them because System.out/err/in are process-wide.
 */
public final class Cli {

    /** What one run printed and returned. */
    public record Run(int code, String out, String err) {
    }

    private Cli() {
    }

    public static synchronized Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** {@link #run} with {@code stdin} as System.in. */
    public static synchronized Run runWithStdin(String stdin, String... args) {
        InputStream in = System.in;
        try {
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            return run(args);
        } finally {
            System.setIn(in);
        }
    }
}
