package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.micrometer.core.instrument.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code conntrack -D}: every flow matching a filter, whatever number of clients it covers, in one process.
 * The hooks batch by building one of these per Service address and port or per removed endpoint, never one per
 * flow.
 *
 * @param filter the filter options ({@code -p udp --orig-dst ...})
 * @param listed how many flows a listing showed it would match (counted when conntrack prints no count); 0 unknown
 */
record ConntrackDelete(List<String> filter, int listed) {

    private static final Logger LOG = LoggerFactory.getLogger(ConntrackDelete.class);
    /** conntrack -D's summary on stderr, also when it deleted nothing (then it exits 1). */
    private static final Pattern DELETED = Pattern.compile("(\\d+) flow entries have been deleted");

    ConntrackDelete {
        filter = List.copyOf(filter);
    }

    static ConntrackDelete of(String... filter) {
        return new ConntrackDelete(List.of(filter), 0);
    }

    /** A deletion in {@code family}'s table: IPv6 filters start with {@code -f ipv6}, IPv4 ones as before dual-stack. */
    static ConntrackDelete of(io.kubeferry.proxy.model.IpFamily family, String... filter) {
        List<String> all = new ArrayList<>(familyArgs(family));
        all.addAll(List.of(filter));
        return new ConntrackDelete(all, 0);
    }

    /**
     * conntrack(8)'s layer-3 option for {@code family}: none for IPv4 (its default), {@code -f ipv6} for IPv6. A
     * listing ({@code -L}) needs it to show IPv6 flows at all; a deletion by IPv6 address infers it, and is given it
     * anyway so that a filter without addresses ({@code --orig-port-dst} alone) stays in its family.
     */
    static List<String> familyArgs(io.kubeferry.proxy.model.IpFamily family) {
        return family == io.kubeferry.proxy.model.IpFamily.IPv6 ? List.of("-f", "ipv6") : List.of();
    }

    /** {@code conntrack -L [-f ipv6] extra...}: one family's flows. */
    static ToolCommand list(io.kubeferry.proxy.model.IpFamily family, String... extra) {
        List<String> args = new ArrayList<>(List.of("-L"));
        args.addAll(familyArgs(family));
        args.addAll(List.of(extra));
        return ToolCommand.of("conntrack", args.toArray(String[]::new));
    }

    ToolCommand command() {
        List<String> args = new ArrayList<>();
        args.add("-D");
        args.addAll(filter);
        return ToolCommand.of("conntrack", args.toArray(String[]::new));
    }

    /**
     * Runs each deletion (one process each), adding what each deleted to {@code deleted} as it goes, and returns the
     * total. A deletion that matched nothing
     * (exit 1, "0 flow entries"; the flows expired meanwhile) is no failure; the others are run anyway and the
     * failures thrown together at the end.
     */
    static long runAll(ToolRunner tools, List<ConntrackDelete> deletes, String what, Counter deleted) throws ToolException {
        long total = 0;
        List<String> failures = new ArrayList<>();
        for (ConntrackDelete delete : deletes) {
            ToolCommand command = delete.command();
            ToolResult result = tools.runAllowingFailure(command);
            OptionalLong count = deletedCount(result.stderr());
            if (result.ok()) {
                if (count.isEmpty()) {
                    LOG.warn("{}: no deleted count in its output ({}); counting the {} flows listed", command.display(),
                            result.stderr().strip(), delete.listed());
                }
                total += count.orElse(delete.listed());
                deleted.increment(count.orElse(delete.listed()));
            } else if (count.isEmpty() || count.getAsLong() != 0) {
                failures.add(command.display() + " exited " + result.exitCode() + ": " + result.stderr().strip());
            }
        }
        if (!failures.isEmpty()) {
            throw new ToolException(failures.size() + " of " + deletes.size() + " " + what + " deletions failed: "
                    + String.join("; ", failures), null);
        }
        return total;
    }

    private static OptionalLong deletedCount(String stderr) {
        Matcher m = DELETED.matcher(stderr);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }
}
