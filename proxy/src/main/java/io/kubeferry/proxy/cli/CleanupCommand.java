package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.IpFamily;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * Removes what kube-ferry (or kube-proxy) programmed. It first checks that it can act, and says what it removed
 * with counts, mode by mode and IP family by family; anything it could not do makes it exit 1, so a script never
 * mistakes "could not" for "done".
 * <p>
 * Each mode is cleaned in each family it programs, with an instance per family (IPv4, then IPv6), as upstream's
 * cleanup removes both families' rules. An IPv6 whose tools are not installed (no ip6tables-restore, say) is named on
 * stderr and skipped without failing: that is an IPv4-only node, whose cleanup must succeed, and a family nothing here
 * can program is a family nothing here can clean. IPv4 is always tried, as before dual-stack: its missing tools are
 * failures (exit 1).
 */
@Command(name = "cleanup", description = "Remove everything kube-ferry (or kube-proxy) programmed on this node, in every mode"
        + " (or only the one --proxy-mode names) and both IP families. Exits 1, naming what it could not do, when anything is"
        + " left. An IPv6 whose tools are not installed is named on stderr and skipped (exit 0 if the rest was removed).")
final class CleanupCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ProxyConfig config = options.resolve();
        return cleanup(config, options.mode != null ? config.mode() : null, CleanupChecks.ofThisProcess(),
                new ProcessToolRunner(config.netns()), spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /**
     * Cleans up {@code onlyMode} (null: every mode on the class path) with {@code tools}. Prints one summary line
     * per mode on {@code out} and each failure on {@code err}; returns 0 when everything was removed, else 1.
     * Also what kube-proxy's {@code --cleanup} flag runs.
     */
    static int cleanup(ProxyConfig config, String onlyMode, CleanupChecks checks, ToolRunner tools, PrintWriter out, PrintWriter err) {
        return cleanup(DataplaneProvider.all(), config, onlyMode, checks, tools, out, err);
    }

    /** The same over {@code providers} instead of the class path's. */
    static int cleanup(List<DataplaneProvider> providers, ProxyConfig config, String onlyMode, CleanupChecks checks, ToolRunner tools,
            PrintWriter out, PrintWriter err) {
        List<String> problems = checks.problems(config.netns(), tools);
        if (!problems.isEmpty()) {
            problems.forEach(p -> err.println("kube-ferry: cleanup: " + p));
            err.println("kube-ferry: cleanup: nothing was removed");
            err.flush();
            return 1;
        }
        int failures = 0;
        for (DataplaneProvider provider : providers) {
            if (onlyMode != null && !provider.mode().equals(onlyMode)) {
                continue;
            }
            for (IpFamily family : IpFamily.values()) {
                if (!provider.families().contains(family)) {
                    if (family != IpFamily.IPv4) {
                        err.println("kube-ferry: cleanup of " + provider.mode() + " mode: " + family + " not cleaned: this build's "
                                + provider.mode() + " mode does not program " + family);
                    }
                    continue;
                }
                Optional<String> missing = family == IpFamily.IPv4
                        ? Optional.empty()
                        : tools.missingTools(provider.mode(), provider.requiredTools(family));
                if (missing.isPresent()) {
                    err.println("kube-ferry: cleanup of " + provider.mode() + " mode: " + family + " skipped: " + missing.get());
                    continue;
                }
                CleanupReport report = provider.create(new DataplaneContext(config, tools, new SimpleMeterRegistry()).withFamily(family))
                        .cleanup();
                out.println(report.removals(family));
                String label = report.mode() + " mode" + (family == IpFamily.IPv4 ? "" : " (" + family + ")");
                for (String failure : report.failures()) {
                    err.println("kube-ferry: cleanup of " + label + ": " + failure);
                }
                failures += report.failures().size();
            }
        }
        out.flush();
        err.flush();
        return failures == 0 ? 0 : 1;
    }
}
