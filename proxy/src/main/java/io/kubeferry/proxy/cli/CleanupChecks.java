package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * What {@code cleanup} makes sure of before it changes anything, because each of these makes every tool
 * fail (or act on the wrong namespace) and a cleanup that cannot act must not look as if it did: the
 * process is root, the named network namespace exists, and a tool runs there.
 */
final class CleanupChecks {

    private final Supplier<OptionalInt> effectiveUid;
    private final Path netnsDir;

    /**
     * @param effectiveUid this process's effective uid, empty when it cannot be told
     * @param netnsDir     where {@code ip netns} keeps its named namespaces
     */
    CleanupChecks(Supplier<OptionalInt> effectiveUid, Path netnsDir) {
        this.effectiveUid = effectiveUid;
        this.netnsDir = netnsDir;
    }

    /** This process, with iproute2's namespace directory. */
    static CleanupChecks ofThisProcess() {
        return new CleanupChecks(CleanupChecks::nativeEffectiveUid, Path.of("/run/netns"));
    }

    private static OptionalInt nativeEffectiveUid() {
        POSIX posix = POSIXFactory.getNativePOSIX();
        return posix.isNative() ? OptionalInt.of(posix.geteuid()) : OptionalInt.empty();
    }

    /** Why cleanup cannot act, one message per reason; empty when it can. Later checks need the earlier ones. */
    List<String> problems(String netns, ToolRunner tools) {
        List<String> problems = new ArrayList<>();
        OptionalInt uid = effectiveUid.get();
        if (uid.isEmpty()) {
            problems.add("cannot tell whether this process is root (no native POSIX access); cleanup needs root");
        } else if (uid.getAsInt() != 0) {
            problems.add("cleanup needs root (effective uid 0) to change netfilter and IPVS state; running as uid " + uid.getAsInt());
        }
        if (!netns.isEmpty() && !Files.exists(netnsDir.resolve(netns))) {
            problems.add("network namespace \"" + netns + "\" does not exist (no " + netnsDir.resolve(netns) + ")");
        }
        if (problems.isEmpty()) {
            try {
                ToolResult r = tools.runAllowingFailure(ToolCommand.of("true"));
                if (!r.ok()) {
                    problems.add("cannot run tools" + where(netns) + ": exit " + r.exitCode() + ": " + r.stderr().strip());
                }
            } catch (ToolException e) {
                problems.add("cannot run tools" + where(netns) + ": " + e.getMessage());
            }
        }
        return List.copyOf(problems);
    }

    private static String where(String netns) {
        return netns.isEmpty() ? "" : " in network namespace " + netns;
    }
}
