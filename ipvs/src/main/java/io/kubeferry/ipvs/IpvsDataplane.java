package io.kubeferry.ipvs;

import io.kubeferry.iptables.IptablesTools;
import io.kubeferry.iptables.JumpRule;
import io.kubeferry.iptables.KernelRules;
import io.kubeferry.iptables.SharedRules;
import io.kubeferry.proxy.config.NodePortAddresses;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.ServiceEvents;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.exec.InterfaceAddresses;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.Scheduler;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.metrics.SyncMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
 * {@code ip -batch} for kube-ipvs0's addresses, {@code ipvsadm -R}, and on full syncs {@code iptables-restore}
 * (the rules depend only on settings, which only a full sync re-reads). The IPVS table is never flushed.
 */
final class IpvsDataplane implements Dataplane {

    private static final Logger LOG = LoggerFactory.getLogger(IpvsDataplane.class);

    static final String DUMMY = "kube-ipvs0";
    /** How often drained real servers are looked for (upstream: every minute). */
    static final Duration HOUSEKEEPING = Duration.ofSeconds(10);

    private final ProxyConfig config;
    private final ToolRunner tools;
    private final ServiceEvents events;
    private final Counter restoreFailures;
    private final Counter applyFailures;
    private final AtomicInteger virtualServers = new AtomicInteger();
    private final AtomicInteger realServers = new AtomicInteger();

    private IptablesTools flavour;
    private IpvsSettings settings;
    private SchedulerCatalog catalog;
    private boolean needFull = true;
    /** What the kernel holds after the last successful sync; null until the first one. */
    private Applied applied;
    /** Scheduler fallbacks already reported, so each is an Event once and not every sync. */
    private Map<ServicePortName, String> reported = Map.of();

    /** The kernel state kube-ferry put there, for partial syncs and housekeeping. */
    private record Applied(IpvsSaveParser.Table table, Set<String> desiredRealServers, SortedSet<String> addresses,
                           Map<String, SortedSet<String>> ipsets) {}

    IpvsDataplane(DataplaneContext context) {
        this.config = context.config();
        this.tools = context.tools();
        this.events = context.events();
        // Upstream's IPVS proxier counts its iptables-restore failures under the iptables name; the other
        // tools' failures are kube-ferry's own metric.
        this.restoreFailures = Counter.builder("kubeproxy.sync.proxy.rules.iptables.restore.failures")
                .tag("ip_family", SyncMetrics.IP_FAMILY).description("Cumulative proxy iptables restore failures")
                .register(context.metrics());
        this.applyFailures = Counter.builder("kubeferry.ipvs.apply.failures")
                .description("IPVS mode syncs that failed in ipset, ip, ipvsadm or iptables-restore").register(context.metrics());
        Gauge.builder("kubeferry.ipvs.virtual.servers", virtualServers, AtomicInteger::get)
                .description("IPVS virtual servers kube-ferry programs").register(context.metrics());
        Gauge.builder("kubeferry.ipvs.real.servers", realServers, AtomicInteger::get)
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
        IpvsSettings s = baseSettings(config).withNodeIPs(renderedNodeIPs(request.state()));
        SchedulerCatalog all = new SchedulerCatalog(new IpvsSchedulers(name -> true), new Scheduler(s.defaultScheduler(), Set.of()));
        IpvsRenderer.Desired desired = IpvsRenderer.render(request.state(), s, all);
        StringBuilder out = new StringBuilder();
        out.append("# ipset restore -exist\n").append(ipsetProgram(desired.ipsets(), Map.of(), true));
        out.append("# ip -batch - (addresses on ").append(DUMMY).append(")\n");
        out.append(addressProgram(desired.addresses(), Set.of()));
        out.append("# ipvsadm -R\n").append(IpvsDiff.between(desired.table(), new IpvsSaveParser.Table(List.of(), List.of()), v -> true).restoreText());
        out.append("# iptables-restore --noflush --counters\n").append(IpvsRenderer.iptables(s, Set.of()));
        return out.toString();
    }

    /**
     * render has no kernel to ask: NodePort virtual servers go on the Node object's addresses (or --node-ip's),
     * narrowed by nodePortAddresses as a sync narrows the kernel's; with none, it says what is missing.
     */
    private List<String> renderedNodeIPs(ProxyState state) {
        List<String> addresses = NodePortAddresses.nonLoopback(state.node().addresses());
        List<String> wanted = config.nodePortAddresses();
        List<String> chosen = NodePortAddresses.all(wanted) ? addresses : NodePortAddresses.select(wanted, addresses);
        if (chosen.isEmpty() && state.services().values().stream().anyMatch(s -> s.port().nodePort() > 0)) {
            LOG.warn(addresses.isEmpty() ? "no node addresses: NodePort virtual servers omitted; pass --node-ip (or include this node's Node object with its addresses)"
                    : "none of the node's addresses " + addresses + " is in nodePortAddresses " + wanted + ": NodePort virtual servers omitted");
        }
        return chosen;
    }

    @Override
    public SyncResult sync(SyncRequest request) throws DataplaneException {
        long start = System.nanoTime();
        boolean full = request.full() || needFull || applied == null;
        String step = "prepare";
        try {
            Applied current;
            Set<JumpRule> presentJumps = Set.copyOf(IpvsRenderer.JUMPS);
            if (full) {
                prepareKernel();
                settings = resolveSettings();
                KernelRules rules = KernelRules.parse(tools.run(ToolCommand.of(flavour.save())).stdout());
                presentJumps = rules.presentJumps(IpvsRenderer.JUMPS);
                current = readKernel();
            } else {
                current = applied;
            }
            IpvsRenderer.Desired desired = IpvsRenderer.render(request.state(), settings, catalog);
            IpvsPlan plan = IpvsDiff.between(desired.table(), current.table(),
                    owned(current.addresses(), settings.nodeIPs(), settings.excludeCIDRs()));
            String ipsets = ipsetProgram(desired.ipsets(), current.ipsets(), full);
            String addresses = addressProgram(desired.addresses(), current.addresses());
            String iptables = full ? IpvsRenderer.iptables(settings, presentJumps) : "";
            long rendered = System.nanoTime();

            // Sets first (the rules match on them), then addresses and virtual servers, then the rules.
            step = "ipset restore";
            if (!ipsets.isEmpty()) {
                tools.run(ToolCommand.of("ipset", "restore", "-exist").withStdin(ipsets));
            }
            step = "ip -batch";
            if (!addresses.isEmpty()) {
                tools.run(ToolCommand.of("ip", "-batch", "-").withStdin(addresses));
            }
            step = "ipvsadm -R";
            if (!plan.lines().isEmpty()) {
                tools.run(ToolCommand.of("ipvsadm", "-R").withStdin(plan.restoreText()));
            }
            step = "iptables-restore";
            if (full) {
                tools.run(flavour.restoreCommand(iptables));
            }
            long done = System.nanoTime();

            Set<String> desiredKeys = desired.table().realServers().stream().map(RealServer::key).collect(Collectors.toSet());
            applied = new Applied(plan.result(), desiredKeys, desired.addresses(), desired.ipsets());
            needFull = false;
            virtualServers.set(plan.result().virtualServers().size());
            realServers.set(plan.result().realServers().size());
            report(desired.fallbacks());
            int natRules = (int) iptables.lines().filter(l -> l.startsWith("-A ")).count();
            return new SyncResult(full, Duration.ofNanos(rendered - start), Duration.ofNanos(done - rendered),
                    Map.of("ipvs-virtual-servers", plan.result().virtualServers().size(),
                            "ipvs-real-servers", plan.result().realServers().size(), "iptables", natRules),
                    ipsets.length() + addresses.length() + plan.restoreText().length() + iptables.length());
        } catch (ToolException e) {
            needFull = true;
            applyFailures.increment();
            if (step.equals("iptables-restore")) {
                restoreFailures.increment();
            }
            throw new DataplaneException((full ? "full" : "partial") + " ipvs sync failed at " + step + ": " + e.getMessage(), e);
        }
    }

    /** Each scheduler fallback becomes one Event; it is reported again only if it goes away and comes back. */
    private void report(List<IpvsRenderer.Fallback> fallbacks) {
        Map<ServicePortName, String> now = new HashMap<>();
        for (IpvsRenderer.Fallback f : fallbacks) {
            now.put(f.service(), f.message());
            if (!f.message().equals(reported.get(f.service()))) {
                events.warning(f.service(), "SchedulerFallback", f.message());
            }
        }
        reported = Map.copyOf(now);
    }

    /** Virtual servers kube-ferry may change: on kube-ipvs0's addresses or the node's, never in excludeCIDRs. */
    static Predicate<VirtualServer> owned(Set<String> dummyAddresses, List<String> nodeIPs, List<String> excludeCIDRs) {
        Set<String> mine = new HashSet<>(dummyAddresses);
        mine.addAll(nodeIPs);
        List<Cidr> excluded = excludeCIDRs.stream().filter(c -> !c.contains(":")).map(Cidr::parse).toList();
        return v -> mine.contains(v.address()) && excluded.stream().noneMatch(c -> c.contains(v.address()));
    }

    @Override
    public Duration housekeepingPeriod() {
        return HOUSEKEEPING;
    }

    /** Deletes real servers at weight 0 once their live connections are gone (graceful termination). */
    @Override
    public void housekeeping() throws DataplaneException {
        Applied a = applied;
        if (a == null || a.table().realServers().stream().noneMatch(r -> r.weight() == 0)) {
            return;
        }
        try {
            Map<String, Integer> live = IpvsConnections.live(tools.run(ToolCommand.of("ipvsadm", "-Lnc")).stdout());
            Map<String, VirtualServer> byKey = new HashMap<>();
            a.table().virtualServers().forEach(v -> byKey.put(v.key(), v));
            List<RealServer> drained = GracefulTermination.drained(a.table().realServers(), byKey, a.desiredRealServers(), live);
            if (drained.isEmpty()) {
                return;
            }
            tools.run(ToolCommand.of("ipvsadm", "-R").withStdin(drained.stream()
                    .map(r -> GracefulTermination.deletion(byKey.get(r.virtualKey()), r) + "\n").collect(Collectors.joining())));
            Set<String> gone = drained.stream().map(RealServer::key).collect(Collectors.toSet());
            List<RealServer> kept = a.table().realServers().stream().filter(r -> !gone.contains(r.key())).toList();
            applied = new Applied(new IpvsSaveParser.Table(a.table().virtualServers(), kept), a.desiredRealServers(),
                    a.addresses(), a.ipsets());
            realServers.set(kept.size());
            LOG.info("graceful termination: deleted {} drained real server(s)", drained.size());
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
            boolean dummy = tools.runAllowingFailure(ToolCommand.of("ip", "link", "show", DUMMY)).ok();
            List<String> args = new ArrayList<>(IptablesTools.LOCK_WAIT);
            args.addAll(List.of("-t", "nat", "-S", IpvsRenderer.KUBE_SERVICES));
            boolean chain = tools.runAllowingFailure(new ToolCommand(flavour.iptables(), args, null, null)).ok();
            if (!dummy || !chain) {
                LOG.warn("{} is gone ({}): next sync is full", dummy ? "nat chain KUBE-SERVICES" : DUMMY,
                        "flushed behind kube-ferry's back?");
                needFull = true;
                return true;
            }
        } catch (ToolException e) {
            LOG.warn("cannot check IPVS mode's kernel state: {}", e.getMessage());
        }
        return false;
    }

    @Override
    public boolean hasLeftovers() throws DataplaneException {
        try {
            if (tools.runAllowingFailure(ToolCommand.of("ip", "link", "show", DUMMY)).ok()) {
                return true;
            }
            ToolResult sets = tools.runAllowingFailure(ToolCommand.of("ipset", "list", "-n"));
            return sets.ok() && sets.stdout().lines().anyMatch(Ipset::ours);
        } catch (ToolException e) {
            return false;
        }
    }

    @Override
    public CleanupReport cleanup() {
        return cleanupNotUsedBy(Set.of());
    }

    @Override
    public CleanupReport cleanupNotUsedBy(Set<String> inUse) {
        Set<String> own = IpvsRenderer.chains();
        // Rules first: an ipset cannot be destroyed while a rule matches on it.
        CleanupReport report = IptablesTools.removeChains(mode(), tools, (table, chain) -> own.contains(table + "/" + chain), inUse);
        SortedSet<String> dummyAddresses = new TreeSet<>();
        try {
            dummyAddresses = dummyAddresses();
            report = removeVirtualServers(report, dummyAddresses);
        } catch (ToolException e) {
            report = report.failed("ipvs: " + e.getMessage());
        }
        try {
            if (tools.runAllowingFailure(ToolCommand.of("ip", "link", "show", DUMMY)).ok()) {
                tools.run(ToolCommand.of("ip", "link", "del", DUMMY));
                // The addresses go with the interface.
                report = report.plus(CleanupReport.INTERFACES, 1).plus(CleanupReport.ADDRESSES, dummyAddresses.size());
            }
        } catch (ToolException e) {
            report = report.failed(DUMMY + ": " + e.getMessage());
        }
        try {
            ToolResult sets = tools.runAllowingFailure(ToolCommand.of("ipset", "list", "-n"));
            if (!sets.ok()) {
                report = report.failed("ipset list -n exited " + sets.exitCode() + ": " + sets.stderr().strip());
            } else {
                List<String> ours = sets.stdout().lines().map(String::trim).filter(Ipset::ours).toList();
                if (!ours.isEmpty()) {
                    tools.run(ToolCommand.of("ipset", "restore").withStdin(ours.stream().map(n -> "destroy " + n + "\n").collect(Collectors.joining())));
                    report = report.plus(CleanupReport.IPSETS, ours.size());
                }
            }
        } catch (ToolException e) {
            report = report.failed("ipset: " + e.getMessage());
        }
        applied = null;
        needFull = true;
        return report;
    }

    /** Deletes the virtual servers kube-ferry owns (their real servers go with them); none when the kernel has no IPVS. */
    private CleanupReport removeVirtualServers(CleanupReport report, Set<String> dummyAddresses) throws ToolException {
        ToolResult saved = tools.runAllowingFailure(ToolCommand.of("ipvsadm", "-Sn"));
        if (!saved.ok()) {
            if (noIpvsInKernel(saved.stderr())) {
                LOG.debug("no IPVS in this kernel: no virtual servers to remove");
                return report;
            }
            return report.failed("ipvsadm -Sn exited " + saved.exitCode() + ": " + saved.stderr().strip());
        }
        Predicate<VirtualServer> mine = owned(dummyAddresses, localAddresses(dummyAddresses), config.ipvs().excludeCIDRs());
        List<VirtualServer> doomed = IpvsSaveParser.parse(saved.stdout()).virtualServers().stream().filter(mine).toList();
        if (doomed.isEmpty()) {
            return report;
        }
        tools.run(ToolCommand.of("ipvsadm", "-R").withStdin(doomed.stream().map(v -> "-D " + IpvsDiff.service(v) + "\n")
                .collect(Collectors.joining())));
        return report.plus(CleanupReport.VIRTUAL_SERVERS, doomed.size());
    }

    /**
     * True for ipvsadm's complaint on a kernel without IPVS ("Can't initialize ipvs: Protocol not available"); as
     * non-root it says "Permission denied" instead, which is a real failure.
     */
    static boolean noIpvsInKernel(String stderr) {
        return stderr.contains("Protocol not available");
    }

    /** The modules upstream loads for IPVS mode, plus the configured scheduler's. */
    List<String> modules() {
        List<String> modules = new ArrayList<>(List.of("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"));
        String scheduler = "ip_vs_" + baseSettings(config).defaultScheduler();
        if (!modules.contains(scheduler)) {
            modules.add(scheduler);
        }
        return modules;
    }

    /**
     * IPVS must be in the kernel: without it every sync would fail. Tries to load the modules (modprobe may be
     * absent from an image whose host loads them), then asks ipvsadm, in the namespace the agent programs.
     */
    @Override
    public void checkKernel() throws DataplaneException {
        List<String> modprobe = new ArrayList<>(List.of("-a", "-q"));
        modprobe.addAll(modules());
        try {
            tools.runAllowingFailure(new ToolCommand("modprobe", modprobe, null, null));
        } catch (ToolException e) {
            LOG.debug("modprobe: {}", e.getMessage());
        }
        ToolResult listed;
        try {
            listed = tools.runAllowingFailure(ToolCommand.of("ipvsadm", "-Ln"));
        } catch (ToolException e) {
            throw new DataplaneException("cannot check for IPVS in the kernel: " + e.getMessage(), e);
        }
        if (listed.ok()) {
            checkScheduler();
            return;
        }
        String why = listed.stderr().lines().filter(l -> l.contains("Can't initialize ipvs")).findFirst().orElse(listed.stderr().strip());
        if (noIpvsInKernel(listed.stderr())) {
            throw new DataplaneException("IPVS is not available in this kernel (ipvsadm: " + why + "): load its modules with `modprobe -a "
                    + String.join(" ", modules()) + "` (a kernel built without CONFIG_IP_VS cannot run IPVS mode), or use --proxy-mode iptables");
        }
        throw new DataplaneException("cannot use IPVS: ipvsadm -Ln exited " + listed.exitCode() + ": " + why);
    }

    /**
     * Where the scheduler probe's virtual server goes: in the benchmarking range (RFC 2544), which no real
     * Service uses, on a port of its own; it exists for two ipvsadm calls.
     */
    static final String SCHEDULER_PROBE = "198.18.255.254:20000";

    /**
     * The configured scheduler is there only if the kernel makes a virtual server with it (upstream's
     * CanUseIPVSProxier does the same): otherwise every Service's virtual server would fail at every sync.
     */
    private void checkScheduler() throws DataplaneException {
        String scheduler = baseSettings(config).defaultScheduler();
        try {
            ToolResult added = tools.runAllowingFailure(ToolCommand.of("ipvsadm", "-R")
                    .withStdin("-A -t " + SCHEDULER_PROBE + " -s " + scheduler + "\n"));
            if (!added.ok()) {
                if (added.stderr().contains("already exists")) {
                    // Someone else's virtual server: leave it, and let the first sync tell.
                    LOG.warn("cannot probe the IPVS scheduler {}: a virtual server {} already exists", scheduler, SCHEDULER_PROBE);
                    return;
                }
                throw new DataplaneException("ipvs.scheduler: the IPVS scheduler \"" + scheduler + "\" is not available in this kernel (ipvsadm: "
                        + added.stderr().strip() + "): load it with `modprobe ip_vs_" + scheduler + "` or choose another");
            }
            tools.run(ToolCommand.of("ipvsadm", "-R").withStdin("-D -t " + SCHEDULER_PROBE + "\n"));
        } catch (ToolException e) {
            throw new DataplaneException("cannot probe the IPVS scheduler " + scheduler + ": " + e.getMessage(), e);
        }
    }

    /** Modules, sysctls, kube-ipvs0 and the scheduler list: what a full sync makes sure of first. */
    private void prepareKernel() throws ToolException {
        if (flavour == null) {
            flavour = IptablesTools.detect(tools);
        }
        tools.runAllowingFailure(ToolCommand.of("modprobe", "-q", "ip_vs"));
        if (catalog == null) {
            IpvsSchedulers schedulers = new IpvsSchedulers(this::kernelHasScheduler);
            String fallback = baseSettings(config).defaultScheduler();
            if (!schedulers.available().contains(fallback)) {
                LOG.error("the configured IPVS scheduler \"{}\" is not available in this kernel (available: {})", fallback,
                        new TreeSet<>(schedulers.available()));
            }
            LOG.info("IPVS schedulers available on this node: {}", schedulers.available());
            catalog = new SchedulerCatalog(schedulers, new Scheduler(fallback, Set.of()));
        }
        List<String> sysctls = new ArrayList<>(List.of(
                // Lets netfilter see IPVS connections, so KUBE-POSTROUTING can masquerade them.
                "net.ipv4.vs.conntrack=1",
                // Packets of a connection whose real server was deleted are dropped at once, not black-holed.
                "net.ipv4.vs.expire_nodest_conn=1",
                "net.ipv4.vs.expire_quiescent_template=1",
                "net.ipv4.ip_forward=1"));
        if (!kernelAtLeast(5, 9)) {
            // Before 5.9, conn_reuse_mode=1 drops SYNs for a second under port reuse (k/k#70747).
            sysctls.add("net.ipv4.vs.conn_reuse_mode=0");
        }
        if (config.ipvs().strictARP()) {
            // kube-ipvs0 holds every Service IP: without these the node answers ARP for all of them (k/k#59976).
            sysctls.add("net.ipv4.conf.all.arp_ignore=1");
            sysctls.add("net.ipv4.conf.all.arp_announce=2");
        }
        List<String> args = new ArrayList<>(List.of("-q", "-w"));
        args.addAll(sysctls);
        tools.run(new ToolCommand("sysctl", args, null, null));
        ToolResult bridge = tools.runAllowingFailure(ToolCommand.of("sysctl", "-n", "net.bridge.bridge-nf-call-iptables"));
        if (bridge.ok() && !bridge.stdout().strip().equals("1")) {
            tools.run(ToolCommand.of("sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"));
        }
        ProxyConfig.Ipvs ipvs = config.ipvs();
        if (!ipvs.tcpTimeout().isZero() || !ipvs.tcpFinTimeout().isZero() || !ipvs.udpTimeout().isZero()) {
            tools.run(ToolCommand.of("ipvsadm", "--set", Long.toString(ipvs.tcpTimeout().toSeconds()),
                    Long.toString(ipvs.tcpFinTimeout().toSeconds()), Long.toString(ipvs.udpTimeout().toSeconds())));
        }
        if (!tools.runAllowingFailure(ToolCommand.of("ip", "link", "show", DUMMY)).ok()) {
            // Left down like upstream's: its addresses are local either way, and a down link never answers ARP.
            tools.run(ToolCommand.of("ip", "link", "add", DUMMY, "type", "dummy"));
            LOG.info("created {}", DUMMY);
        }
    }

    private boolean kernelHasScheduler(String name) {
        try {
            if (tools.runAllowingFailure(ToolCommand.of("modprobe", "-q", "ip_vs_" + name)).ok()) {
                return true;
            }
        } catch (ToolException e) {
            LOG.debug("modprobe ip_vs_{}: {}", name, e.getMessage());
        }
        // Built into the kernel, or loaded by the host when modprobe is not in the image.
        return Files.isDirectory(Path.of("/sys/module/ip_vs_" + name));
    }

    static boolean kernelAtLeast(int major, int minor) {
        String[] v = System.getProperty("os.version", "0.0").split("[.-]");
        try {
            int ma = Integer.parseInt(v[0]);
            int mi = v.length > 1 ? Integer.parseInt(v[1]) : 0;
            return ma > major || (ma == major && mi >= minor);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private Applied readKernel() throws ToolException {
        IpvsSaveParser.Table table = IpvsSaveParser.parse(tools.run(ToolCommand.of("ipvsadm", "-Sn")).stdout());
        Map<String, SortedSet<String>> sets = parseIpsetSave(tools.run(ToolCommand.of("ipset", "save")).stdout());
        return new Applied(table, Set.of(), dummyAddresses(), sets);
    }

    static Map<String, SortedSet<String>> parseIpsetSave(String text) {
        Map<String, SortedSet<String>> sets = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] t = line.trim().split("\\s+");
            if (t.length >= 3 && t[0].equals("add") && Ipset.ours(t[1])) {
                sets.computeIfAbsent(t[1], k -> new TreeSet<>()).add(t[2]);
            }
        }
        return sets;
    }

    /**
     * One {@code ipset restore -exist} input: creates (full syncs; no-ops for sets that exist), then removals,
     * then additions, so an entry the kernel prints differently from how it was written still ends up present.
     */
    static String ipsetProgram(Map<String, SortedSet<String>> desired, Map<String, SortedSet<String>> current, boolean create) {
        StringBuilder out = new StringBuilder();
        if (create) {
            Ipset.ALL.forEach(s -> out.append(s.createLine()).append('\n'));
        }
        for (Map.Entry<String, SortedSet<String>> e : current.entrySet()) {
            SortedSet<String> want = desired.getOrDefault(e.getKey(), new TreeSet<>());
            for (String member : e.getValue()) {
                if (!want.contains(member)) {
                    out.append("del ").append(e.getKey()).append(' ').append(member).append('\n');
                }
            }
        }
        for (Map.Entry<String, SortedSet<String>> e : desired.entrySet()) {
            SortedSet<String> have = current.getOrDefault(e.getKey(), new TreeSet<>());
            for (String member : e.getValue()) {
                if (!have.contains(member)) {
                    out.append("add ").append(e.getKey()).append(' ').append(member).append('\n');
                }
            }
        }
        return out.toString();
    }

    /** {@code ip -batch} lines that make kube-ipvs0 hold exactly {@code desired}. */
    static String addressProgram(Set<String> desired, Set<String> current) {
        StringBuilder out = new StringBuilder();
        for (String a : current) {
            if (!desired.contains(a)) {
                out.append("address del ").append(a).append("/32 dev ").append(DUMMY).append('\n');
            }
        }
        for (String a : desired) {
            if (!current.contains(a)) {
                out.append("address add ").append(a).append("/32 dev ").append(DUMMY).append('\n');
            }
        }
        return out.toString();
    }

    private SortedSet<String> dummyAddresses() throws ToolException {
        SortedSet<String> out = new TreeSet<>();
        ToolResult r = tools.runAllowingFailure(ToolCommand.of("ip", "-o", "-4", "addr", "show", "dev", DUMMY));
        if (r.ok()) {
            InterfaceAddresses.parse(r.stdout()).forEach(a -> out.add(a.ip()));
        }
        return out;
    }

    /** The node's own IPv4 addresses: every interface's but kube-ipvs0's and loopback's. */
    private List<String> localAddresses(Set<String> dummy) throws ToolException {
        return InterfaceAddresses.parse(tools.run(ToolCommand.of("ip", "-o", "-4", "addr", "show")).stdout()).stream()
                .filter(a -> !a.device().equals(DUMMY) && !a.ip().startsWith("127.") && !dummy.contains(a.ip()))
                .map(InterfaceAddresses.Address::ip).distinct().toList();
    }

    static IpvsSettings baseSettings(ProxyConfig config) {
        String scheduler = config.ipvs().scheduler().isBlank() ? "rr" : config.ipvs().scheduler().trim();
        return new IpvsSettings(config.iptables().masqueradeMark(), config.iptables().masqueradeAll(), SharedRules.podCIDR(config),
                List.of(), scheduler, config.ipvs().excludeCIDRs(), true);
    }

    /** This node's NodePort addresses (nodePortAddresses applied) and whether the kernel is TCP-liberal. */
    private IpvsSettings resolveSettings() throws ToolException {
        IpvsSettings base = baseSettings(config);
        List<String> local = localAddresses(dummyAddresses());
        // Loopback is never among them: IPVS cannot serve 127.0.0.1 NodePorts (there is no route_localnet DNAT).
        List<String> wanted = config.nodePortAddresses();
        List<String> chosen = NodePortAddresses.all(wanted) ? local : NodePortAddresses.select(wanted, local);
        return base.withNodeIPs(chosen).withDropInvalid(SharedRules.dropInvalid(tools));
    }
}
