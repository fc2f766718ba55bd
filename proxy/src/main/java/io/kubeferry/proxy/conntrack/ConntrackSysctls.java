package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The conntrack settings, applied at start as kube-proxy applies them (cmd/kube-proxy/app conntrack code):
 * nf_conntrack_max = max(maxPerCore x CPUs, min), raised only, and the module's hashsize raised to max/4 when
 * smaller; the TCP and UDP timeouts and tcp_be_liberal set when they differ. Zero (false for tcpBeLiberal)
 * leaves a setting alone. The sysctls go through the ToolRunner ({@code sysctl}), so {@code --netns} applies.
 * A setting that cannot be written (not the root network namespace, read-only /proc/sys or /sys) is skipped
 * with one log line and start-up goes on, as upstream does for a read-only sysfs. The hashsize is a module
 * parameter of the whole host, so it is left alone when kube-ferry programs another namespace (--netns).
 */
public final class ConntrackSysctls {

    private static final Logger LOG = LoggerFactory.getLogger(ConntrackSysctls.class);
    static final String MAX = "net.netfilter.nf_conntrack_max";
    static final Path HASHSIZE = Path.of("/sys/module/nf_conntrack/parameters/hashsize");

    /** One setting to make: the key and the value kube-proxy would write. */
    public record Setting(String key, long value, boolean raiseOnly) {
    }

    /** What happened: settings written, and settings skipped with the reason. */
    public record Outcome(List<String> written, List<String> skipped) {

        public Outcome {
            written = List.copyOf(written);
            skipped = List.copyOf(skipped);
        }
    }

    private final ToolRunner tools;
    private final Path hashsize;
    private final int cpus;

    /** @param hashsize the module's hashsize parameter, or null to leave it alone */
    public ConntrackSysctls(ToolRunner tools, Path hashsize, int cpus) {
        this.tools = tools;
        this.hashsize = hashsize;
        this.cpus = cpus;
    }

    /**
     * For this node: the node's online CPUs, and the real hashsize parameter unless {@code netns} names another
     * namespace than kube-ferry's own (the parameter is host-wide, the namespace is not the host).
     */
    public static ConntrackSysctls forNode(ToolRunner tools, String netns) {
        return new ConntrackSysctls(tools, netns == null || netns.isEmpty() ? HASHSIZE : null, onlineCpus());
    }

    /** The sysctls the settings ask for, in upstream's order; pure. */
    public static List<Setting> plan(ProxyConfig.Conntrack c, int cpus) {
        List<Setting> plan = new ArrayList<>();
        long max = max(c, cpus);
        if (max > 0) {
            plan.add(new Setting(MAX, max, true));
        }
        seconds(plan, "net.netfilter.nf_conntrack_tcp_timeout_established", c.tcpEstablishedTimeout());
        seconds(plan, "net.netfilter.nf_conntrack_tcp_timeout_close_wait", c.tcpCloseWaitTimeout());
        if (c.tcpBeLiberal()) {
            plan.add(new Setting("net.netfilter.nf_conntrack_tcp_be_liberal", 1, false));
        }
        seconds(plan, "net.netfilter.nf_conntrack_udp_timeout", c.udpTimeout());
        seconds(plan, "net.netfilter.nf_conntrack_udp_timeout_stream", c.udpStreamTimeout());
        return plan;
    }

    /** max(maxPerCore x CPUs, min), or 0 (leave the limit alone) when maxPerCore is 0. */
    static long max(ProxyConfig.Conntrack c, int cpus) {
        if (c.maxPerCore() <= 0) {
            return 0;
        }
        return Math.max((long) c.maxPerCore() * cpus, c.min());
    }

    private static void seconds(List<Setting> plan, String key, java.time.Duration value) {
        if (value.getSeconds() > 0) {
            plan.add(new Setting(key, value.getSeconds(), false));
        }
    }

    /** Applies the plan; never throws: what cannot be written is skipped and logged. */
    public Outcome apply(ProxyConfig.Conntrack c) {
        List<String> written = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Setting s : plan(c, cpus)) {
            OptionalLong current = read(s.key());
            boolean needed = current.isEmpty() || (s.raiseOnly() ? current.getAsLong() < s.value() : current.getAsLong() != s.value());
            if (needed) {
                String reason = write(s.key(), s.value());
                if (reason == null) {
                    LOG.info("set sysctl {}={}", s.key(), s.value());
                    written.add(s.key() + "=" + s.value());
                } else {
                    LOG.warn("conntrack: cannot set {}={}, leaving it{}: {}", s.key(), s.value(),
                            current.isPresent() ? " at " + current.getAsLong() : "", reason);
                    skipped.add(s.key() + "=" + s.value() + ": " + reason);
                }
            }
            if (s.key().equals(MAX)) {
                raiseHashsize(s.value() / 4, written, skipped);
            }
        }
        return new Outcome(written, skipped);
    }

    private void raiseHashsize(long wanted, List<String> written, List<String> skipped) {
        if (hashsize == null) {
            LOG.info("conntrack hashsize is host-wide: left alone while programming another network namespace");
            skipped.add("hashsize: another network namespace");
            return;
        }
        long current;
        try {
            current = Long.parseLong(Files.readString(hashsize).strip());
        } catch (IOException | NumberFormatException e) {
            LOG.warn("conntrack: cannot read {} ({}): hashsize left as is", hashsize, e.getMessage());
            skipped.add(hashsize + ": unreadable");
            return;
        }
        if (current >= wanted) {
            return;
        }
        try {
            // A module parameter, global to the host: only writable from the root network namespace.
            Files.writeString(hashsize, Long.toString(wanted));
            LOG.info("set conntrack hashsize {} (was {})", wanted, current);
            written.add(hashsize + "=" + wanted);
        } catch (IOException e) {
            LOG.warn("conntrack: cannot raise hashsize to {}, leaving it at {}: {}", wanted, current, e.getMessage());
            skipped.add(hashsize + "=" + wanted + ": " + e.getMessage());
        }
    }

    private OptionalLong read(String key) {
        try {
            ToolResult r = tools.runAllowingFailure(ToolCommand.of("sysctl", "-n", key));
            return r.ok() ? OptionalLong.of(Long.parseLong(r.stdout().strip())) : OptionalLong.empty();
        } catch (ToolException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * Null when written, else why not. The value is read back: procps' sysctl exits 0 after the kernel refused
     * a write (e.g. nf_conntrack_max outside the root namespace: "Invalid argument"), so its status is not proof.
     */
    private String write(String key, long value) {
        ToolResult r;
        try {
            r = tools.runAllowingFailure(ToolCommand.of("sysctl", "-w", key + "=" + value));
        } catch (ToolException e) {
            return e.getMessage();
        }
        if (!r.ok()) {
            return "sysctl exited " + r.exitCode() + ": " + r.stderr().strip();
        }
        OptionalLong now = read(key);
        if (now.isEmpty() || now.getAsLong() != value) {
            String stderr = r.stderr().strip();
            return "the kernel kept " + (now.isPresent() ? now.getAsLong() : "its value") + (stderr.isEmpty() ? "" : " (" + stderr + ")");
        }
        return null;
    }

    /** The node's online CPUs (the limit is host-wide, so not the process's cpuset), else the JVM's count. */
    static int onlineCpus() {
        try {
            int count = 0;
            for (String range : Files.readString(Path.of("/sys/devices/system/cpu/online")).strip().split(",")) {
                String[] ends = range.split("-");
                count += ends.length == 2 ? Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1 : 1;
            }
            return count > 0 ? count : Runtime.getRuntime().availableProcessors();
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }
}
