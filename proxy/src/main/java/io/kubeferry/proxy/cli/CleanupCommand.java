package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.kubeferry.proxy.exec.ToolRunner;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Removes what kube-ferry (or kube-proxy) programmed. It first checks that it can act, and says what it removed
 * with counts, mode by mode; anything it could not do makes it exit 1, so a script never mistakes "could not"
 * for "done".
 */
@Command(name = "cleanup", description = "Remove everything kube-ferry (or kube-proxy) programmed on this node, in every mode"
        + " (or only the one --proxy-mode names). Exits 1, naming what it could not do, when anything is left.")
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
        List<String> problems = checks.problems(config.netns(), tools);
        if (!problems.isEmpty()) {
            problems.forEach(p -> err.println("kube-ferry: cleanup: " + p));
            err.println("kube-ferry: cleanup: nothing was removed");
            err.flush();
            return 1;
        }
        int failures = 0;
        for (DataplaneProvider provider : DataplaneProvider.all()) {
            if (onlyMode != null && !provider.mode().equals(onlyMode)) {
                continue;
            }
            CleanupReport report = provider.create(new DataplaneContext(config, tools, new SimpleMeterRegistry())).cleanup();
            out.println(report.removals());
            for (String failure : report.failures()) {
                err.println("kube-ferry: cleanup of " + report.mode() + " mode: " + failure);
            }
            failures += report.failures().size();
        }
        out.flush();
        err.flush();
        return failures == 0 ? 0 : 1;
    }
}
