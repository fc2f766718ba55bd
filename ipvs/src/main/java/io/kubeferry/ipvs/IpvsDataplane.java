package io.kubeferry.ipvs;

import io.kubeferry.iptables.IptablesTools;
import io.kubeferry.iptables.JumpRule;
import io.kubeferry.iptables.KernelRules;
import io.kubeferry.iptables.SharedRules;
import io.kubeferry.proxy.config.NodePortAddresses;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.conntrack.ConntrackChanges;
import io.kubeferry.proxy.conntrack.TcpFlushPolicy;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.exec.InterfaceAddresses;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.Scheduler;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.scheduler.SchedulerFallbacks;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * IPVS mode. Each sync diffs the desired state ({@link IpvsRenderer}) against the kernel (read on full
 * syncs, remembered between them) and applies the difference in one batch per tool: {@code ipset restore},
 * {@code ip -batch} for kube-ipvs0's addresses, {@code ipvsadm -R}, and {@code iptables-restore}: every chain on full
 * syncs (the rules depend on settings, which only a full sync re-reads), on partial ones only KUBE-IPVS-OUT-FILTER,
 * when the load balancers the node may not reach changed. The IPVS table is never flushed.
 * This class only runs the tools and reports: what to feed them is worked out by pure code ({@link IpvsChanges},
 * {@link IpvsDiff}, {@link IpsetDiff}, {@link IpvsAddresses}, {@link GracefulTermination}) and what the kernel
 * needs first by {@link IpvsKernelPreparation}.
 * <p>
 * One instance per IP family (upstream's MetaProxier). Both families share the kernel's one IPVS table, kube-ipvs0
 * and the ipset namespace, so an instance sees only its own family of them: the virtual servers (and so their real
 * servers) it reads back from {@code ipvsadm -Sn} are its family's, kube-ipvs0's addresses it reads and programs are
 * its family's ({@code ip -6} for IPv6), its sets are its family's names (IPv6's KUBE-6-*), and its rules go through
 * its family's iptables (ip6tables for IPv6). Nothing it syncs, drains or cleans up is ever the other family's.
 */
final class IpvsDataplane implements Dataplane {

    private static final Logger LOG = LoggerFactory.getLogger(IpvsDataplane.class);

    /** How often drained real servers are looked for (upstream: every minute). */
    static final Duration HOUSEKEEPING = Duration.ofSeconds(10);

    private final ProxyConfig config;
    private final ToolRunner tools;
    private final IpFamily family;
    private final Counter restoreFailures;
    private final Counter applyFailures;
    private final AtomicInteger virtualServers = new AtomicInteger();
    private final AtomicInteger realServers = new AtomicInteger();
    private final IpvsKernelPreparation kernel;

    private IptablesTools flavour;
    private IpvsSettings settings;
    /** The Node addresses {@link #settings} were resolved with. */
    private List<String> settingsNodeAddresses;
    private SchedulerCatalog catalog;
    private boolean needFull = true;
    /** What the kernel holds after the last successful sync; null until the first one. */
    private IpvsKernelState applied;
    /** The state the last successful sync programmed (null until the first): what endpoint removals are told from. */
    private ProxyState programmed;
    private final TcpFlushPolicy flushTcp;
    /** Scheduler fallbacks already reported, so each is an Event once and not every sync. */
    private final SchedulerFallbacks fallbackEvents;
    /** The scheduler per Service port as last applied (or rendered); read by /debug/state's thread. */
    private volatile Map<ServicePortName, SchedulerInForce> schedulers = Map.of();

    IpvsDataplane(DataplaneContext context) {
        this.config = context.config();
        this.tools = context.tools();
        this.family = context.family();
        this.flushTcp = new TcpFlushPolicy(config.conntrackHooks().flushTcp());
        this.fallbackEvents = new SchedulerFallbacks(context.events());
        this.kernel = new IpvsKernelPreparation(config.ipvs(), baseSettings(config).defaultScheduler(), config.own().scheduler(), tools,
                family);
        // Upstream's IPVS proxier counts its iptables-restore failures under the iptables name; the other
        // tools' failures are kube-ferry's own metric.
        this.restoreFailures = Counter.builder("kubeproxy.sync.proxy.rules.iptables.restore.failures")
                .tag("ip_family", family.apiName()).description("Cumulative proxy iptables restore failures")
                .register(context.metrics());
        // kube-ferry's own meters carry the family too: each family's instance registers its own.
        this.applyFailures = Counter.builder("kubeferry.ipvs.apply.failures").tag("ip_family", family.apiName())
                .description("IPVS mode syncs that failed in ipset, ip, ipvsadm or iptables-restore").register(context.metrics());
        Gauge.builder("kubeferry.ipvs.virtual.servers", virtualServers, AtomicInteger::get).tag("ip_family", family.apiName())
                .description("IPVS virtual servers kube-ferry programs").register(context.metrics());
        Gauge.builder("kubeferry.ipvs.real.servers", realServers, AtomicInteger::get).tag("ip_family", family.apiName())
                .description("IPVS real servers kube-ferry programs (draining ones included)").register(context.metrics());
    }

    @Override
    public String mode() {
        return "ipvs";
    }

    @Override
    public Set<String> sharedState() {
        return IpvsRenderer.chains();
    }

    @Override
    public String render(SyncRequest request) {
        IpvsSettings s = baseSettings(config, family).withNodeIPs(renderedNodeIPs(request.state()));
        SchedulerCatalog all = new SchedulerCatalog(new IpvsSchedulers(name -> true), new Scheduler(s.defaultScheduler(), Set.of()));
        IpvsRenderer.Desired desired = IpvsRenderer.render(request.state(), s, all);
        schedulers = desired.schedulers();
        return IpvsChanges.fromScratch(desired, IpvsRenderer.iptables(s, Set.of(), desired.noNodeAccess()), family).text();
    }

    /**
     * render has no kernel to ask: NodePort virtual servers go on the Node object's addresses (or --node-ip's),
     * narrowed by nodePortAddresses as a sync narrows the kernel's; with none, it says what is missing.
     */
    private List<String> renderedNodeIPs(ProxyState state) {
        List<String> addresses = NodePortAddresses.nonLoopback(state.node().addresses()).stream().filter(family::matches).toList();
        List<String> wanted = config.nodePortAddresses();
        List<String> chosen = IpvsAddresses.forNodePorts(NodePortAddresses.forFamily(wanted, family), addresses);
        if (chosen.isEmpty() && state.services().values().stream().anyMatch(s -> s.port().nodePort() > 0)) {
            LOG.warn(addresses.isEmpty()
                    ? "no node addresses: NodePort virtual servers omitted; pass --node-ip (or include this node's Node object with its addresses)"
                    : "none of the node's addresses " + addresses + " is in nodePortAddresses " + wanted
                            + ": NodePort virtual servers omitted");
        }
        return chosen;
    }

    @Override
    public SyncResult sync(SyncRequest request) throws DataplaneException {
        long start = System.nanoTime();
        // The Node's addresses name the node's primary IP (nodePortAddresses' primary): a change re-resolves the settings.
        boolean full = request.full() || needFull || applied == null || !request.state().node().addresses().equals(settingsNodeAddresses);
        String step = "prepare";
        try {
            IpvsKernelState current;
            Set<JumpRule> presentJumps = Set.copyOf(IpvsRenderer.JUMPS);
            // NodePort addresses the last settings served stay ours for this sync, so a moved NodePort leaves none behind.
            Set<String> nodeIPs = new LinkedHashSet<>(settings == null ? List.of() : settings.nodeIPs());
            if (full) {
                if (flavour == null) {
                    flavour = IptablesTools.detect(tools, family);
                }
                catalog = kernel.prepare();
                settings = resolveSettings(request.state().node().addresses());
                settingsNodeAddresses = request.state().node().addresses();
                KernelRules rules = KernelRules.parse(tools.run(ToolCommand.of(flavour.save())).stdout());
                presentJumps = rules.presentJumps(IpvsRenderer.JUMPS);
                current = readKernel();
            } else {
                current = applied;
            }
            nodeIPs.addAll(settings.nodeIPs());
            IpvsRenderer.Desired desired = IpvsRenderer.render(request.state(), settings, catalog, cutAtOnce(request.state()));
            IpvsChanges changes = IpvsChanges.between(desired, current,
                    IpvsDiff.owned(current.addresses(), List.copyOf(nodeIPs), settings.excludeCIDRs(), family), full,
                    full ? IpvsRenderer.iptables(settings, presentJumps, desired.noNodeAccess()) : "", family);
            long rendered = System.nanoTime();

            // Sets first (the rules match on them), then addresses and virtual servers, then the rules.
            step = "ipset restore";
            if (!changes.ipsets().isEmpty()) {
                tools.run(ToolCommand.of("ipset", "restore", "-exist").withStdin(changes.ipsets()));
            }
            step = "ip -batch";
            if (!changes.addresses().isEmpty()) {
                tools.run(ToolCommand.of("ip", "-batch", "-").withStdin(changes.addresses()));
            }
            step = "ipvsadm -R";
            if (!changes.plan().lines().isEmpty()) {
                tools.run(ToolCommand.of("ipvsadm", "-R").withStdin(changes.plan().restoreText()));
            }
            step = "iptables-restore";
            if (!changes.iptables().isEmpty()) {
                tools.run(flavour.restoreCommand(changes.iptables()));
            }
            long done = System.nanoTime();

            applied = changes.applied(desired);
            programmed = request.state();
            needFull = false;
            IpvsSaveParser.Table result = changes.plan().result();
            virtualServers.set(result.virtualServers().size());
            realServers.set(result.realServers().size());
            report(desired.fallbacks());
            schedulers = desired.schedulers();
            return new SyncResult(full, Duration.ofNanos(rendered - start), Duration.ofNanos(done - rendered),
                    Map.of("ipvs-virtual-servers", result.virtualServers().size(),
                            "ipvs-real-servers", result.realServers().size(), "iptables", changes.iptablesRules()),
                    changes.size());
        } catch (ToolException e) {
            needFull = true;
            applyFailures.increment();
            if (step.equals("iptables-restore")) {
                restoreFailures.increment();
            }
            throw new DataplaneException((full ? "full" : "partial") + " ipvs sync failed at " + step + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removed endpoints of opted-in TCP Services whose real servers go at once ({@link GracefulTermination#cutAtOnce}),
     * told from the last programmed state: after a failed sync the next one compares with the same, so none is
     * missed. O(Service ports), unchanged ones being equal by reference (what the conntrack hooks compute as well).
     */
    private Map<ServicePortName, List<Endpoint>> cutAtOnce(ProxyState state) {
        return programmed == null ? Map.of() : GracefulTermination.cutAtOnce(flushTcp, ConntrackChanges.between(programmed, state));
    }

    @Override
    public Map<ServicePortName, SchedulerInForce> schedulers() {
        return schedulers;
    }

    /** Each scheduler fallback becomes one Event; it is reported again only if it goes away and comes back. */
    private void report(List<IpvsRenderer.Fallback> fallbacks) {
        Map<ServicePortName, String> now = new HashMap<>();
        fallbacks.forEach(f -> now.put(f.service(), f.message()));
        fallbackEvents.report(now);
    }

    @Override
    public Duration housekeepingPeriod() {
        return HOUSEKEEPING;
    }

    /** Deletes real servers at weight 0 once their live connections are gone (graceful termination). */
    @Override
    public void housekeeping() throws DataplaneException {
        IpvsKernelState a = applied;
        if (a == null || !GracefulTermination.anyDraining(a)) {
            return;
        }
        try {
            Map<String, Integer> live = IpvsConnections.live(tools.run(ToolCommand.of("ipvsadm", "-Lnc")).stdout());
            GracefulTermination.Sweep sweep = GracefulTermination.sweep(a, live);
            if (sweep.drained().isEmpty()) {
                return;
            }
            tools.run(ToolCommand.of("ipvsadm", "-R").withStdin(sweep.restoreText()));
            applied = sweep.after();
            realServers.set(sweep.after().table().realServers().size());
            LOG.info("graceful termination: deleted {} drained real server(s)", sweep.drained().size());
        } catch (ToolException e) {
            throw new DataplaneException("graceful termination check failed: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean kernelStateLost() {
        if (applied == null || flavour == null) {
            return false;
        }
        try {
            boolean dummy = IpvsAddresses.deviceExists(tools);
            List<String> args = new ArrayList<>(IptablesTools.LOCK_WAIT);
            args.addAll(List.of("-t", "nat", "-S", IpvsRenderer.KUBE_SERVICES));
            boolean chain = tools.runAllowingFailure(new ToolCommand(flavour.iptables(), args, null, null)).ok();
            if (!dummy || !chain) {
                LOG.warn("{} is gone ({}): next sync is full", dummy ? "nat chain KUBE-SERVICES" : IpvsAddresses.DEVICE,
                        "flushed behind kube-ferry's back?");
                needFull = true;
                return true;
            }
        } catch (ToolException e) {
            LOG.warn("cannot check IPVS mode's kernel state: {}", e.getMessage());
        }
        return false;
    }

    /**
     * This family's sets, addresses on kube-ipvs0, or kube-ipvs0 itself when it holds nothing of the other family's
     * (what this instance's cleanup would remove).
     */
    @Override
    public boolean hasLeftovers() throws DataplaneException {
        try {
            if (IpvsAddresses.deviceExists(tools) && (!dummyAddresses(family).isEmpty() || dummyAddresses(other()).isEmpty())) {
                return true;
            }
            ToolResult sets = tools.runAllowingFailure(ToolCommand.of("ipset", "list", "-n"));
            return sets.ok() && sets.stdout().lines().anyMatch(n -> Ipset.ours(n.trim(), family));
        } catch (ToolException e) {
            return false;
        }
    }

    @Override
    public CleanupReport cleanup() {
        return cleanupNotUsedBy(Set.of());
    }

    /**
     * Removes this family's chains (through its iptables), virtual servers, kube-ipvs0 addresses and sets.
     * kube-ipvs0 itself goes only when it then holds nothing of the other family's: the other family's instance
     * may still be using it.
     */
    @Override
    public CleanupReport cleanupNotUsedBy(Set<String> inUse) {
        Set<String> own = IpvsRenderer.chains();
        // Rules first: an ipset cannot be destroyed while a rule matches on it.
        CleanupReport report = IptablesTools.removeChains(mode(), tools, family, (table, chain) -> own.contains(table + "/" + chain),
                inUse);
        SortedSet<String> dummyAddresses = new TreeSet<>();
        try {
            dummyAddresses = dummyAddresses(family);
            report = removeVirtualServers(report, dummyAddresses);
        } catch (ToolException e) {
            report = report.failed("ipvs: " + e.getMessage());
        }
        try {
            if (IpvsAddresses.deviceExists(tools)) {
                if (dummyAddresses(other()).isEmpty()) {
                    tools.run(ToolCommand.of("ip", "link", "del", IpvsAddresses.DEVICE));
                    // The addresses go with the interface.
                    report = report.plus(CleanupReport.INTERFACES, 1).plus(CleanupReport.ADDRESSES, dummyAddresses.size());
                } else if (!dummyAddresses.isEmpty()) {
                    tools.run(ToolCommand.of("ip", "-batch", "-").withStdin(IpvsAddresses.program(Set.of(), dummyAddresses)));
                    report = report.plus(CleanupReport.ADDRESSES, dummyAddresses.size());
                }
            }
        } catch (ToolException e) {
            report = report.failed(IpvsAddresses.DEVICE + ": " + e.getMessage());
        }
        try {
            ToolResult sets = tools.runAllowingFailure(ToolCommand.of("ipset", "list", "-n"));
            if (!sets.ok()) {
                report = report.failed("ipset list -n exited " + sets.exitCode() + ": " + sets.stderr().strip());
            } else {
                List<String> ours = sets.stdout().lines().map(String::trim).filter(n -> Ipset.ours(n, family)).toList();
                if (!ours.isEmpty()) {
                    tools.run(ToolCommand.of("ipset", "restore")
                            .withStdin(ours.stream().map(n -> "destroy " + n + "\n").collect(Collectors.joining())));
                    report = report.plus(CleanupReport.IPSETS, ours.size());
                }
            }
        } catch (ToolException e) {
            report = report.failed("ipset: " + e.getMessage());
        }
        applied = null;
        programmed = null;
        needFull = true;
        return report;
    }

    /**
     * Deletes this family's virtual servers kube-ferry owns (their real servers go with them); none when the kernel
     * has no IPVS.
     */
    private CleanupReport removeVirtualServers(CleanupReport report, Set<String> dummyAddresses) throws ToolException {
        ToolResult saved = tools.runAllowingFailure(ToolCommand.of("ipvsadm", "-Sn"));
        if (!saved.ok()) {
            if (IpvsKernelPreparation.noIpvsInKernel(saved.stderr())) {
                LOG.debug("no IPVS in this kernel: no virtual servers to remove");
                return report;
            }
            return report.failed("ipvsadm -Sn exited " + saved.exitCode() + ": " + saved.stderr().strip());
        }
        Predicate<VirtualServer> mine = IpvsDiff.owned(dummyAddresses, localAddresses(dummyAddresses), config.ipvs().excludeCIDRs(),
                family);
        List<VirtualServer> doomed = IpvsSaveParser.parse(saved.stdout()).virtualServers().stream().filter(mine).toList();
        if (doomed.isEmpty()) {
            return report;
        }
        tools.run(ToolCommand.of("ipvsadm", "-R").withStdin(doomed.stream().map(v -> "-D " + IpvsDiff.service(v) + "\n")
                .collect(Collectors.joining())));
        return report.plus(CleanupReport.VIRTUAL_SERVERS, doomed.size());
    }

    /** IPVS and the configured scheduler must be in the kernel (see {@link IpvsKernelPreparation#check()}). */
    @Override
    public void checkKernel() throws DataplaneException {
        kernel.check();
    }

    /** This family's part of the kernel: its virtual servers (with their real servers), addresses and sets. */
    private IpvsKernelState readKernel() throws ToolException {
        IpvsSaveParser.Table table = IpvsSaveParser.parse(tools.run(ToolCommand.of("ipvsadm", "-Sn")).stdout()).of(family);
        Map<String, SortedSet<String>> sets = IpsetDiff.parseSave(tools.run(ToolCommand.of("ipset", "save")).stdout(), family);
        return new IpvsKernelState(table, Set.of(), dummyAddresses(family), sets, new TreeSet<>());
    }

    /** kube-ipvs0's addresses of family {@code f} (IPv6's link-local ones aside: never kube-ferry's). */
    private SortedSet<String> dummyAddresses(IpFamily f) throws ToolException {
        SortedSet<String> out = new TreeSet<>();
        String flag = f == IpFamily.IPv6 ? "-6" : "-4";
        ToolResult r = tools.runAllowingFailure(ToolCommand.of("ip", "-o", flag, "addr", "show", "dev", IpvsAddresses.DEVICE));
        if (r.ok()) {
            InterfaceAddresses.parse(r.stdout()).stream().map(InterfaceAddresses.Address::ip)
                    .filter(ip -> f.matches(ip) && !IpvsAddresses.notANodeAddress(ip)).forEach(out::add);
        }
        return out;
    }

    private IpFamily other() {
        return family == IpFamily.IPv4 ? IpFamily.IPv6 : IpFamily.IPv4;
    }

    /** The node's own addresses of this family: every interface's but kube-ipvs0's, loopback's and link-local ones. */
    private List<String> localAddresses(Set<String> dummy) throws ToolException {
        return IpvsAddresses.nodeAddresses(InterfaceAddresses.shown(tools, family), dummy);
    }

    static IpvsSettings baseSettings(ProxyConfig config) {
        return baseSettings(config, IpFamily.IPv4);
    }

    /** The settings of {@code family}'s instance: its own pod CIDR of clusterCIDR's pair. */
    static IpvsSettings baseSettings(ProxyConfig config, IpFamily family) {
        String scheduler = config.ipvs().scheduler().isBlank() ? "rr" : config.ipvs().scheduler().trim();
        String podCIDR = family == IpFamily.IPv4 ? SharedRules.podCIDR(config) : config.clusterCIDR(family);
        return new IpvsSettings(config.iptables().masqueradeMark(), config.iptables().masqueradeAll(), podCIDR, List.of(), scheduler,
                config.ipvs().excludeCIDRs(), true, "", family);
    }

    /**
     * This node's NodePort addresses (this family's nodePortAddresses applied) and whether the kernel is TCP-liberal.
     * The primary address is the Node object's ({@code node}) when it names one, as in the other modes.
     */
    private IpvsSettings resolveSettings(List<String> node) throws ToolException {
        IpvsSettings base = baseSettings(config, family);
        List<String> local = NodePortAddresses.primaryFirst(node, localAddresses(dummyAddresses(family)));
        // Loopback is never among them: IPVS cannot serve 127.0.0.1 NodePorts (there is no route_localnet DNAT), nor ::1.
        List<String> chosen = IpvsAddresses.forNodePorts(NodePortAddresses.forFamily(config.nodePortAddresses(), family), local);
        return base.withNodeIPs(chosen).withDropInvalid(SharedRules.dropInvalid(tools)).withNodeIP(NodePortAddresses.primary(local));
    }
}
