// The process boundary of an nftables sync (kube-ferry issue 12, part 5), measured from inside the node's
// network namespace. A standalone Java 25 program (the Foreign Function and Memory API is final since JDK 22;
// the project builds on JDK 17), launched by NftDispatchBenchmark as a single source file:
//
//   ip netns exec NS java --enable-native-access=ALL-UNNAMED NftBoundary.java N MAX_SECONDS KIND DO UNDO [KIND DO UNDO ...]
//
// For each KIND it applies the DO and UNDO batches (files of nft -f text that undo each other) alternately,
// N times in all per method, two ways: a new `nft -f -` process per batch (what kube-ferry's tool runner does),
// and libnftables in this process (nft_run_cmd_from_buffer: the same parser, cache and netlink, no fork/exec).
// The methods take turns pair by pair, so drifting machine load hits both alike. It also spawns `nft --version`
// N times: the bare cost of starting nft. Prints one line per KIND and method:
//
//   row KIND METHOD COUNT P50_MICROS P90_MICROS MAX_MICROS
//
// and exits non-zero, saying why, if any batch fails. Bounded: at most N batches per method and MAX_SECONDS
// per KIND.

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

public class NftBoundary {

    static final String LIBRARY = "/usr/lib/x86_64-linux-gnu/libnftables.so.1";

    /** libnftables' four calls (plus the error buffer), bound once. */
    record Libnftables(MethodHandle run, MethodHandle errorBuffer, MemorySegment ctx) {

        static Libnftables open(Arena arena) throws Throwable {
            Linker linker = Linker.nativeLinker();
            SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(LIBRARY), arena);
            MethodHandle ctxNew = linker.downcallHandle(lib.find("nft_ctx_new").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            MethodHandle bufferOutput = linker.downcallHandle(lib.find("nft_ctx_buffer_output").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MethodHandle bufferError = linker.downcallHandle(lib.find("nft_ctx_buffer_error").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MethodHandle run = linker.downcallHandle(lib.find("nft_run_cmd_from_buffer").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            MethodHandle errorBuffer = linker.downcallHandle(lib.find("nft_ctx_get_error_buffer").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            MemorySegment ctx = (MemorySegment) ctxNew.invokeExact(0); // NFT_CTX_DEFAULT
            if (ctx.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("nft_ctx_new returned NULL");
            }
            // Buffered, so nothing is written to this process's stdout/stderr and the error text can be read back.
            int ignoredOut = (int) bufferOutput.invokeExact(ctx);
            int ignoredErr = (int) bufferError.invokeExact(ctx);
            return new Libnftables(run, errorBuffer, ctx);
        }

        void apply(MemorySegment batch, String name) throws Throwable {
            int rc = (int) run.invokeExact(ctx, batch);
            if (rc != 0) {
                MemorySegment err = (MemorySegment) errorBuffer.invokeExact(ctx);
                throw new IllegalStateException("libnftables failed on " + name + ": " + err.reinterpret(1 << 20).getString(0));
            }
        }
    }

    public static void main(String[] args) throws Throwable {
        int n = Integer.parseInt(args[0]);
        long maxNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        try (Arena arena = Arena.ofConfined()) {
            Libnftables lib = Libnftables.open(arena);
            for (int k = 2; k + 2 < args.length; k += 3) {
                measure(lib, arena, args[k], Path.of(args[k + 1]), Path.of(args[k + 2]), n, maxNanos);
            }
            List<Long> version = new ArrayList<>();
            long end = System.nanoTime() + maxNanos;
            for (int i = 0; i < n && System.nanoTime() < end; i++) {
                version.add(spawn(List.of("nft", "--version"), null, "nft --version"));
            }
            row("fork-exec", "nft --version", version);
        }
    }

    static void measure(Libnftables lib, Arena arena, String kind, Path doFile, Path undoFile, int n, long maxNanos) throws Throwable {
        byte[][] text = {Files.readAllBytes(doFile), Files.readAllBytes(undoFile)};
        MemorySegment[] native_ = {arena.allocateFrom(new String(text[0], StandardCharsets.UTF_8)),
                arena.allocateFrom(new String(text[1], StandardCharsets.UTF_8))};
        String[] names = {doFile.getFileName().toString(), undoFile.getFileName().toString()};
        List<Long> spawned = new ArrayList<>();
        List<Long> inProcess = new ArrayList<>();
        long end = System.nanoTime() + maxNanos;
        // Pairs: spawn DO, spawn UNDO, in-process DO, in-process UNDO, ... so each batch finds the state it expects.
        while (spawned.size() < n && System.nanoTime() < end) {
            for (int b = 0; b < 2; b++) {
                spawned.add(spawn(List.of("nft", "-f", "-"), text[b], names[b]));
            }
            for (int b = 0; b < 2; b++) {
                long start = System.nanoTime();
                lib.apply(native_[b], names[b]);
                inProcess.add((System.nanoTime() - start) / 1000);
            }
        }
        row(kind, "nft -f - process", spawned);
        row(kind, "libnftables in-process", inProcess);
    }

    /** One process, its stdin fed and its output drained; the micros from start to exit. */
    static long spawn(List<String> argv, byte[] stdin, String name) throws Exception {
        long start = System.nanoTime();
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(argv + " on " + name + " timed out");
        }
        long micros = (System.nanoTime() - start) / 1000;
        if (p.exitValue() != 0) {
            throw new IllegalStateException(argv + " on " + name + " exited " + p.exitValue() + ": " + new String(out, StandardCharsets.UTF_8));
        }
        return micros;
    }

    static void row(String kind, String method, List<Long> micros) {
        long[] sorted = micros.stream().mapToLong(Long::longValue).sorted().toArray();
        if (sorted.length == 0) {
            throw new IllegalStateException("no samples for " + kind + " / " + method);
        }
        System.out.println("row\t" + kind + "\t" + method + "\t" + sorted.length + "\t" + percentile(sorted, 50) + "\t"
                + percentile(sorted, 90) + "\t" + sorted[sorted.length - 1]);
    }

    /** Nearest-rank percentile. */
    static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
