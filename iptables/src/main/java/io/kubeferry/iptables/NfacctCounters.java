package io.kubeferry.iptables;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's extended-accounting objects (nfacct) that upstream kube-proxy counts two rules into, and the
 * two metrics it derives from them. Driven through the {@code nfacct} tool by the {@link ToolRunner}, so
 * {@code --netns} applies (the objects are per network namespace). A kernel or node without nfacct is
 * normal: it is said once and the rules are written without the counters. Not thread-safe: the dataplane
 * calls it from its sync only; the metrics read the last values, so a scrape never runs a tool.
 */
final class NfacctCounters {

    private static final Logger LOG = LoggerFactory.getLogger(NfacctCounters.class);

    /** Upstream's counter on the INVALID drop in KUBE-FORWARD (metrics.IPTablesCTStateInvalidDroppedNFAcctCounter). */
    static final String CT_STATE_INVALID_DROPPED = "ct_state_invalid_dropped_pkts";
    /** Upstream's counter on localhost NodePort accepts (metrics.LocalhostNodePortAcceptedNFAcctCounter). */
    static final String LOCALHOST_NODEPORTS_ACCEPTED = "localhost_nps_accepted_pkts";

    /** The metric each counter feeds, with upstream's help text (pkg/proxy/metrics/metrics.go). */
    private record Metric(String counter, String name, String help) {
    }

    private static final List<Metric> METRICS = List.of(
            new Metric(CT_STATE_INVALID_DROPPED, "kubeproxy.iptables.ct.state.invalid.dropped.packets",
                    "packets dropped by iptables to work around conntrack problems"),
            new Metric(LOCALHOST_NODEPORTS_ACCEPTED, "kubeproxy.iptables.localhost.nodeports.accepted.packets",
                    "Number of packets accepted on nodeports of loopback interface"));

    /** One line of {@code nfacct list} / {@code nfacct get}: {@code { pkts = 0..., bytes = 0... } = NAME;}. */
    private static final Pattern LINE = Pattern.compile("\\{\\s*pkts\\s*=\\s*(\\d+),\\s*bytes\\s*=\\s*(\\d+)[^}]*}\\s*=\\s*([^;\\s]+);");

    /**
     * The value each metric shows, per registry. The nfacct objects are the network namespace's, not a family's: the
     * IPv4 and IPv6 instances count into the same two objects, and upstream shows them as one unlabelled series each
     * (no ip_family: a series per family would show both families' packets twice). So both instances of one registry
     * update the one value its meter reads; otherwise the second instance's meter would be dropped as a duplicate and
     * its readings lost (e.g. once the first instance stops using nfacct).
     */
    private static final Map<MeterRegistry, Map<String, AtomicLong>> SHOWN = Collections.synchronizedMap(new WeakHashMap<>());

    private final ToolRunner tools;
    private final MeterRegistry registry;
    private final Map<String, AtomicLong> packets = new HashMap<>();
    private final Set<String> ready = new LinkedHashSet<>();
    private final Set<String> failuresSaid = new HashSet<>();
    /** Why nfacct cannot be used here, once known; it does not come back (no loadable modules, same tool). */
    private String unavailable;

    NfacctCounters(ToolRunner tools, MeterRegistry registry) {
        this.tools = tools;
        this.registry = registry;
    }

    /**
     * Makes sure both counters exist, creating the missing ones, as upstream does on each full sync.
     *
     * @return the counters that exist now: the rules may count into these
     */
    Set<String> ensure() {
        if (unavailable != null) {
            return Set.of();
        }
        Map<String, Long> present;
        try {
            ToolResult listed = tools.runAllowingFailure(ToolCommand.of("nfacct", "list"));
            if (!listed.ok()) {
                disable("nfacct list exited " + listed.exitCode() + ": " + listed.stderr().strip());
                return Set.of();
            }
            present = parse(listed.stdout());
        } catch (ToolException e) {
            disable(e.getMessage());
            return Set.of();
        }
        for (Metric metric : METRICS) {
            String name = metric.counter();
            if (!present.containsKey(name) && !add(name)) {
                ready.remove(name);
                continue;
            }
            if (ready.add(name)) {
                LOG.info("counting into nfacct counter {} (metric {})", name, metric.name());
            }
            packets.computeIfAbsent(name, n -> shown(metric)).set(present.getOrDefault(name, 0L));
        }
        return Set.copyOf(ready);
    }

    /** The value {@code metric}'s meter in this registry reads, registering the meter with the first instance's ensure. */
    private AtomicLong shown(Metric metric) {
        return SHOWN.computeIfAbsent(registry, r -> new ConcurrentHashMap<>()).computeIfAbsent(metric.name(), n -> {
            AtomicLong value = new AtomicLong();
            FunctionCounter.builder(metric.name(), value, AtomicLong::get).description(metric.help()).register(registry);
            return value;
        });
    }

    /** Reads the counters into the metrics; after each sync, so the values are at most one sync period old. */
    void refresh() {
        if (ready.isEmpty()) {
            return;
        }
        try {
            ToolResult listed = tools.runAllowingFailure(ToolCommand.of("nfacct", "list"));
            if (!listed.ok()) {
                LOG.debug("nfacct list exited {}: {}", listed.exitCode(), listed.stderr().strip());
                return;
            }
            parse(listed.stdout()).forEach((name, value) -> {
                AtomicLong held = packets.get(name);
                if (held != null) {
                    held.set(value);
                }
            });
        } catch (ToolException e) {
            LOG.debug("cannot read the nfacct counters: {}", e.getMessage());
        }
    }

    /**
     * Stops using nfacct, e.g. when the kernel has the counters but not the iptables match and a restore
     * that used it failed. Said once.
     */
    void disable(String reason) {
        if (unavailable == null) {
            unavailable = reason;
            LOG.info("nfacct is not usable here ({}): INVALID drops and localhost NodePort accepts are not counted, and "
                    + "kubeproxy_iptables_ct_state_invalid_dropped_packets_total and "
                    + "kubeproxy_iptables_localhost_nodeports_accepted_packets_total are not updated", reason);
        }
        ready.clear();
    }

    private boolean add(String name) {
        try {
            ToolResult added = tools.runAllowingFailure(ToolCommand.of("nfacct", "add", name));
            if (added.ok()) {
                return true;
            }
            if (failuresSaid.add(name)) {
                LOG.warn("cannot create nfacct counter {} (nfacct add exited {}: {}): the rules do not count into it, "
                        + "its metric is not updated; retried on each full sync", name, added.exitCode(), added.stderr().strip());
            }
        } catch (ToolException e) {
            if (failuresSaid.add(name)) {
                LOG.warn("cannot create nfacct counter {}: {}", name, e.getMessage());
            }
        }
        return false;
    }

    /** Counter name to packets, from {@code nfacct list} output. */
    static Map<String, Long> parse(String listed) {
        Map<String, Long> counters = new HashMap<>();
        Matcher m = LINE.matcher(listed);
        while (m.find()) {
            counters.put(m.group(3), Long.parseUnsignedLong(m.group(1)));
        }
        return counters;
    }
}
