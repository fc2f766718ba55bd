package io.kubeferry.iptables;

import io.kubeferry.proxy.config.NodePortAddresses;
import io.kubeferry.proxy.config.ProxyConfig;
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
import io.kubeferry.proxy.exec.ToolNotFoundException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.SchedulerFallbacks;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * iptables mode. Each sync is one {@code iptables-restore --noflush --counters}: the renderer's text,
 * written whole on full syncs and for changed Service ports only on partial ones. Thin on purpose:
 * everything interesting is in {@link IptablesRenderer}. One instance per IP family, as upstream's MetaProxier runs
 * one proxier per family: an IPv6 instance programs only ip6tables (its own -nft/-legacy flavour, detected as
 * IPv4's is), reads only the node's IPv6 addresses and never has localhost NodePorts.
 */
final class IptablesDataplane implements Dataplane {

    private static final Logger LOG = LoggerFactory.getLogger(IptablesDataplane.class);

    /** Chains kube-ferry (and kube-proxy) own in each table; kubelet's KUBE-FIREWALL and friends are not ours. */
    static final Set<String> OWN_CHAINS = Set.of(
            IptablesRenderer.KUBE_SERVICES, IptablesRenderer.KUBE_EXTERNAL_SERVICES, IptablesRenderer.KUBE_NODEPORTS,
            IptablesRenderer.KUBE_FORWARD, IptablesRenderer.KUBE_PROXY_FIREWALL, IptablesRenderer.KUBE_POSTROUTING,
            IptablesRenderer.KUBE_MARK_MASQ, IptablesRenderer.CANARY);

    private final ProxyConfig config;
    private final IpFamily family;
    private final ToolRunner tools;
    private final IptablesRenderer renderer;
    private final SchedulerFallbacks fallbacks;
    private final Counter restoreFailures;
    private final Counter partialRestoreFailures;
    private final AtomicInteger filterRules = new AtomicInteger();
    private final AtomicInteger natRules = new AtomicInteger();
    private final AtomicInteger filterWritten = new AtomicInteger();
    private final AtomicInteger natWritten = new AtomicInteger();
    private final NfacctCounters nfacct;
    private boolean routeLocalnetSaid;
    private boolean loopbackNodePortsSaid;

    private IptablesTools flavour;
    private IptablesSettings settings;
    /** The program applied last; a failed restore changes nothing, so it stays true to the kernel. */
    private RestoreProgram applied;
    private boolean synced;
    /** The Node's addresses the settings were resolved with (null before the first full sync). */
    private List<String> settingsNodeAddresses;
    /** The algorithm per Service port of the program applied (or rendered) last; read by /debug/state's thread. */
    private volatile Map<ServicePortName, SchedulerInForce> schedulers = Map.of();
    private boolean needFull = true;
    /** When iptables-save last listed the kernel's chains (System.nanoTime). */
    private long lastScan;
    private boolean scanned;

    IptablesDataplane(DataplaneContext context) {
        this.config = context.config();
        this.family = context.family();
        this.tools = context.tools();
        this.renderer = new IptablesRenderer(new ChainNames(200_000), IptablesScheduling.of(config));
        this.fallbacks = new SchedulerFallbacks(context.events());
        // Upstream's names, help and labels (k/k pkg/proxy/metrics).
        this.restoreFailures = Counter.builder("kubeproxy.sync.proxy.rules.iptables.restore.failures")
                .tag("ip_family", family.apiName()).description("Cumulative proxy iptables restore failures")
                .register(context.metrics());
        this.partialRestoreFailures = Counter.builder("kubeproxy.sync.proxy.rules.iptables.partial.restore.failures")
                .tag("ip_family", family.apiName()).description("Cumulative proxy iptables partial restore failures")
                .register(context.metrics());
        ruleGauge(context, family, "kubeproxy.sync.proxy.rules.iptables.total", "Total number of iptables rules owned by kube-proxy",
                filterRules, natRules);
        ruleGauge(context, family, "kubeproxy.sync.proxy.rules.iptables.last",
                "Number of iptables rules written by kube-proxy in last sync",
                filterWritten, natWritten);
        this.nfacct = new NfacctCounters(tools, context.metrics());
    }

    private static void ruleGauge(DataplaneContext context, IpFamily family, String name, String help, AtomicInteger filter,
            AtomicInteger nat) {
        Gauge.builder(name, filter, AtomicInteger::get).tag("ip_family", family.apiName()).tag("table", "filter")
                .description(help).register(context.metrics());
        Gauge.builder(name, nat, AtomicInteger::get).tag("ip_family", family.apiName()).tag("table", "nat")
                .description(help).register(context.metrics());
    }

    @Override
    public String mode() {
        return "iptables";
    }

    @Override
    public String render(SyncRequest request) {
        // No kernel to ask: the node's addresses are the Node object's (or --node-ip's), as the agent's are the kernel's.
        List<String> addresses = request.state().node().addresses();
        IptablesSettings shown = forAddresses(baseSettings(config, family), addresses);
        if (shown.nodePortIPs() != null) {
            if (shown.nodePortIPs().isEmpty() && request.state().services().values().stream().anyMatch(s -> s.port().nodePort() > 0)) {
                LOG.warn("no {} node address in nodePortAddresses {} (node addresses: {}): NodePort rules omitted; pass --node-ip",
                        family.apiName(), config.nodePortAddresses(), addresses);
            }
        }
        RestoreProgram program = renderer.full(request.state(), shown, KernelState.NONE);
        schedulers = schedulersOf(program);
        return program.text();
    }

    @Override
    public SyncResult sync(SyncRequest request) throws DataplaneException {
        long start = System.nanoTime();
        // The Node's addresses name the node's primary IP (see nodeAddresses): a change re-resolves the settings.
        List<String> node = request.state().node().addresses();
        boolean full = request.full() || needFull || !node.equals(settingsNodeAddresses);
        // Something happened behind our back (failed restore, canary lost, cleanup): read the kernel.
        boolean kernelSuspect = needFull || applied == null;
        try {
            if (flavour == null) {
                flavour = IptablesTools.detect(tools, family);
            }
            if (applied == null) {
                full = true;
            }
            RestoreProgram program;
            if (full) {
                KernelState kernel = prepareFull(kernelSuspect, node);
                program = renderer.full(request.state(), settings, kernel);
            } else {
                // A partial sync reads nothing: the program applied last stands for the kernel.
                program = renderer.partial(request.state(), settings, request.changed(),
                        new KernelState(applied, Set.of(), Set.copyOf(JumpRule.ALL)));
            }
            long rendered = System.nanoTime();
            restore(program, full);
            long appliedAt = System.nanoTime();
            this.applied = program;
            filterRules.set(program.filterRules());
            natRules.set(program.natRules());
            Map<String, Integer> written = WrittenRules.count(program.text());
            filterWritten.set(written.getOrDefault("filter", 0));
            natWritten.set(written.getOrDefault("nat", 0));
            needFull = false;
            synced = true;
            nfacct.refresh();
            reportFallbacks(program);
            schedulers = schedulersOf(program);
            return new SyncResult(full, Duration.ofNanos(rendered - start), Duration.ofNanos(appliedAt - rendered),
                    Map.of("filter", program.filterRules(), "nat", program.natRules()), program.text().length());
        } catch (ToolException e) {
            needFull = true;
            throw new DataplaneException((full ? "full" : "partial") + " " + program() + " sync failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Map<ServicePortName, SchedulerInForce> schedulers() {
        return schedulers;
    }

    private static Map<ServicePortName, SchedulerInForce> schedulersOf(RestoreProgram program) {
        Map<ServicePortName, SchedulerInForce> all = new HashMap<>();
        program.services().forEach((name, rules) -> all.put(name, rules.scheduler()));
        return Map.copyOf(all);
    }

    /** Services whose scheduler could not be honoured: a Warning Event each, once (the program holds every port's). */
    private void reportFallbacks(RestoreProgram program) {
        Map<ServicePortName, String> fell = new HashMap<>();
        program.services().forEach((name, rules) -> {
            if (!rules.fallback().isEmpty()) {
                fell.put(name, rules.fallback());
            }
        });
        fallbacks.report(fell);
    }

    /**
     * Resolves this node's settings again (into {@link #settings}) and says what the kernel holds: the chains and
     * jumps iptables-save lists, with kubelet's chain and the nfacct counters; or, when no scan is due, the
     * program applied last standing in.
     */
    private KernelState prepareFull(boolean kernelSuspect, List<String> node) throws ToolException {
        IptablesSettings previous = settings;
        settings = resolveSettings(node);
        settingsNodeAddresses = node;
        if (!scanDue(kernelSuspect)) {
            // Our own chains stand in for the kernel's: those we dropped since still get deleted, and
            // strays are left for the next scan (harmless: nothing jumps to them), as upstream does.
            // What the last scan found of kubelet's chains and the counters holds until the next one.
            settings = settings.withKubeletFirewall(previous.kubeletFirewall()).withNfacctCounters(previous.nfacctCounters());
            LOG.debug("large cluster: iptables-save scan skipped (last one less than syncPeriod ago)");
            return new KernelState(applied, applied.serviceChains(), Set.copyOf(JumpRule.ALL));
        }
        KernelRules kernel = KernelRules.parse(tools.run(ToolCommand.of(flavour.save())).stdout());
        settings = settings.withKubeletFirewall(kernel.chains("filter").contains(IptablesRenderer.KUBE_FIREWALL))
                .withNfacctCounters(nfacct.ensure());
        lastScan = System.nanoTime();
        scanned = true;
        return new KernelState(applied, kernel.chains("nat"), kernel.presentJumps(JumpRule.ALL));
    }

    private void restore(RestoreProgram program, boolean full) throws ToolException {
        try {
            tools.run(flavour.restoreCommand(program.text()));
        } catch (ToolException e) {
            restoreFailures.increment();
            if (!full) {
                partialRestoreFailures.increment();
            }
            if (rejectedNfacct(program.text(), String.valueOf(e.getMessage()))) {
                // The counters exist but the iptables match does not (xt_nfacct): the next full sync goes without.
                nfacct.disable("iptables-restore rejected the nfacct match: " + e.getMessage());
            }
            throw e;
        }
    }

    /**
     * Whether a full sync lists the kernel's chains with iptables-save. Above 1,000 endpoints (upstream's
     * large-cluster mode) that listing takes seconds, so it runs at most once per syncPeriod unless the kernel
     * may differ from what we applied.
     */
    private boolean scanDue(boolean kernelSuspect) {
        if (kernelSuspect || !scanned || !applied.largeCluster()) {
            return true;
        }
        return System.nanoTime() - lastScan >= config.syncPeriod().toNanos();
    }

    @Override
    public boolean kernelStateLost() {
        if (!synced || flavour == null) {
            return false;
        }
        for (String table : List.of("mangle", "nat", "filter")) {
            try {
                List<String> args = new ArrayList<>(IptablesTools.LOCK_WAIT);
                args.addAll(List.of("-t", table, "-S", IptablesRenderer.CANARY));
                if (!tools.runAllowingFailure(new ToolCommand(flavour.iptables(), args, null, null)).ok()) {
                    LOG.warn("canary chain {} in table {} is gone (tables flushed?): next sync is full", IptablesRenderer.CANARY, table);
                    needFull = true;
                    return true;
                }
            } catch (ToolException e) {
                LOG.warn("cannot check the canary chain: {}", e.getMessage());
            }
        }
        return false;
    }

    @Override
    public boolean hasLeftovers() throws DataplaneException {
        // KUBE-SERVICES alone is shared with IPVS mode; per-Service-port chains and the canary are iptables mode's
        // own. The canary counts too: a node whose Services had no endpoints has no per-Service chain at all, only
        // the fixed chains and their REJECT rules, which must not outlive the switch to another mode.
        for (IptablesTools candidate : IptablesTools.flavours(family)) {
            try {
                ToolResult saved = tools.runAllowingFailure(ToolCommand.of(candidate.save(), "-t", "nat"));
                if (saved.ok() && KernelRules.parse(saved.stdout()).chains("nat").stream()
                        .anyMatch(c -> ChainNames.isServiceChain(c) || c.equals(IptablesRenderer.CANARY))) {
                    return true;
                }
            } catch (ToolException e) {
                LOG.debug("{}: {}", candidate.save(), e.getMessage());
            }
        }
        return false;
    }

    /** Every chain this mode declares, as {@code table/chain}: IPVS mode writes some of the same ones. */
    @Override
    public Set<String> sharedState() {
        Set<String> chains = new HashSet<>();
        IptablesRenderer.FILTER_CHAINS.forEach(c -> chains.add("filter/" + c));
        IptablesRenderer.NAT_CHAINS.forEach(c -> chains.add("nat/" + c));
        for (String table : List.of("filter", "nat", "mangle")) {
            chains.add(table + "/" + IptablesRenderer.CANARY);
        }
        return chains;
    }

    @Override
    public CleanupReport cleanup() {
        return cleanupNotUsedBy(Set.of());
    }

    @Override
    public CleanupReport cleanupNotUsedBy(Set<String> inUse) {
        CleanupReport report = IptablesTools.removeChains(mode(), tools, family,
                (table, chain) -> OWN_CHAINS.contains(chain) || ChainNames.isServiceChain(chain), inUse);
        applied = null;
        synced = false;
        needFull = true;
        return report;
    }

    /** Whether a failed restore failed on an nfacct match: its message names it, or the line it names has one. */
    static boolean rejectedNfacct(String program, String message) {
        if (!program.contains("-m nfacct")) {
            return false;
        }
        if (message.contains("nfacct")) {
            return true;
        }
        java.util.regex.Matcher line = java.util.regex.Pattern.compile("line (\\d+) failed").matcher(message);
        if (line.find()) {
            int n = Integer.parseInt(line.group(1));
            List<String> lines = program.lines().toList();
            return n >= 1 && n <= lines.size() && lines.get(n - 1).contains("-m nfacct");
        }
        return false;
    }

    static IptablesSettings baseSettings(ProxyConfig config) {
        return baseSettings(config, IpFamily.IPv4);
    }

    /**
     * {@code family}'s settings from the configuration: its pod CIDR of the clusterCIDR pair, its nodePortAddresses
     * ({@link #nodePortEntries}), and localhost NodePorts for IPv4 only.
     */
    static IptablesSettings baseSettings(ProxyConfig config, IpFamily family) {
        List<String> nodePortIPs = NodePortAddresses.all(nodePortEntries(config, family)) ? null : List.of();
        return new IptablesSettings(config.iptables().masqueradeMark(), config.iptables().masqueradeAll(),
                SharedRules.podCIDR(config, family), nodePortIPs, family == IpFamily.IPv4 && localhostNodePorts(config), true, "",
                Set.of(), false, family);
    }

    /**
     * The nodePortAddresses entries that apply to {@code family}: its own CIDRs and the keywords. As upstream's
     * NewNodePortAddresses(family), a family none of whose CIDRs is given opens NodePorts on every local address.
     */
    static List<String> nodePortEntries(ProxyConfig config, IpFamily family) {
        return NodePortAddresses.forFamily(config.nodePortAddresses(), family);
    }

    /** The program this instance drives, for messages: iptables or ip6tables. */
    private String program() {
        return family == IpFamily.IPv4 ? "iptables" : "ip6tables";
    }

    /**
     * An IPv6 instance needs the kernel's IPv6 (booted without ipv6.disable=1, not disabled by sysctl) and ip6tables
     * with its nat table, as upstream creates the IPv6 proxier only when ip6tables is present. IPv4 checks nothing
     * here: its tools are checked by name at start-up.
     */
    @Override
    public void checkKernel() throws DataplaneException {
        if (family == IpFamily.IPv4) {
            return;
        }
        try {
            ToolResult disabled = tools.runAllowingFailure(ToolCommand.of("sysctl", "-n", "net.ipv6.conf.all.disable_ipv6"));
            if (!disabled.ok()) {
                throw new DataplaneException("IPv6 is not available in this kernel (/proc/sys/net/ipv6 is missing: booted with"
                        + " ipv6.disable=1?): sysctl exited " + disabled.exitCode() + ": " + disabled.stderr().strip());
            }
            if (disabled.stdout().strip().equals("1")) {
                throw new DataplaneException("IPv6 is disabled on this node (net.ipv6.conf.all.disable_ipv6=1)");
            }
        } catch (ToolException e) {
            throw new DataplaneException("cannot tell whether this kernel has IPv6: " + e.getMessage(), e);
        }
        IptablesTools ip6tables;
        try {
            ip6tables = IptablesTools.detect(tools, family);
            List<String> args = new ArrayList<>(IptablesTools.LOCK_WAIT);
            args.addAll(List.of("-t", "nat", "-S", "POSTROUTING"));
            ToolResult nat = tools.runAllowingFailure(new ToolCommand(ip6tables.iptables(), args, null, null));
            if (!nat.ok()) {
                throw new DataplaneException(ip6tables.iptables() + " cannot use the IPv6 nat table (kernel without ip6table_nat or"
                        + " nf_tables IPv6?): exited " + nat.exitCode() + ": " + nat.stderr().strip());
            }
        } catch (ToolNotFoundException e) {
            throw new DataplaneException("ip6tables is not installed (" + e.tool() + " not found): install ip6tables (the iptables"
                    + " package) to program IPv6 Services", e);
        } catch (ToolException e) {
            throw new DataplaneException("cannot check ip6tables: " + e.getMessage(), e);
        }
    }

    /**
     * Upstream's rule (iptables NewProxier): localhost NodePorts need {@code iptables.localhostNodePorts} and a
     * {@code nodePortAddresses} that covers IPv4 loopback (none given, or an IPv4 CIDR holding 127.0.0.0; no
     * IPv4 CIDR at all counts as 0.0.0.0/0).
     */
    static boolean localhostNodePorts(ProxyConfig config) {
        if (!config.iptables().localhostNodePorts()) {
            return false;
        }
        List<String> entries = config.nodePortAddresses();
        if (NodePortAddresses.all(entries) || entries.contains("localhost")) {
            return true;
        }
        boolean anyIPv4 = false;
        for (String entry : entries) {
            if (entry.equals("primary")) {
                anyIPv4 = true;
            } else if (!entry.contains(":")) {
                anyIPv4 = true;
                // Upstream: cidr.IP.IsLoopback() || cidr.Contains(127.0.0.0).
                if (entry.startsWith("127.") || Cidr.parse(entry).contains("127.0.0.0")) {
                    return true;
                }
            }
        }
        return !anyIPv4;
    }

    /** Settings for this node: its addresses, and whether the kernel is liberal about out-of-window TCP. */
    private IptablesSettings resolveSettings(List<String> node) throws ToolException {
        IptablesSettings base = forAddresses(baseSettings(config, family), NodePortAddresses.primaryFirst(node, nodeAddresses()));
        if (base.nodePortIPs() != null) {
            if (!base.localhostNodePorts() && !loopbackNodePortsSaid && base.nodePortIPs().stream().anyMatch(base::loopback)) {
                loopbackNodePortsSaid = true;
                // Upstream logs this too: the renderer leaves the loopback addresses out.
                LOG.warn(family == IpFamily.IPv4
                        ? "nodePortAddresses includes localhost but iptables.localhostNodePorts is false: NodePorts do not "
                                + "answer on 127.0.0.0/8"
                        : "nodePortAddresses includes localhost but localhost NodePorts are not supported on IPv6: NodePorts do "
                                + "not answer on ::1");
            }
        }
        base = base.withDropInvalid(SharedRules.dropInvalid(tools));
        if (base.localhostNodePorts()) {
            // Lets 127.0.0.1:<NodePort> be DNATed to a pod; without it the kernel drops such packets as martians.
            if (!routeLocalnetSaid) {
                routeLocalnetSaid = true;
                LOG.info("Setting route_localnet=1 to allow node-ports on localhost; to change this either disable "
                        + "iptables.localhostNodePorts (--iptables-localhost-nodeports) or set nodePortAddresses "
                        + "(--nodeport-addresses) to filter loopback addresses");
            }
            tools.run(ToolCommand.of("sysctl", "-w", "net.ipv4.conf.all.route_localnet=1"));
        }
        return base;
    }

    /** The node's primary IP and, with nodePortAddresses set, the addresses NodePorts open on: for sync and render alike. */
    private IptablesSettings forAddresses(IptablesSettings base, List<String> addresses) {
        IptablesSettings settings = base.withNodeIP(NodePortAddresses.primary(addresses));
        return settings.nodePortIPs() == null
                ? settings
                : settings.withNodePortIPs(NodePortAddresses.select(nodePortEntries(config, family), addresses));
    }

    /**
     * This family's addresses of the node's interfaces. IPv6: {@code ip -o -6 addr show} in canonical form, link-local
     * ones (fe80::/10) left out: no NodePort or primary address is one.
     */
    private List<String> nodeAddresses() throws ToolException {
        if (family == IpFamily.IPv4) {
            return InterfaceAddresses.ips(tools);
        }
        Cidr linkLocal = Cidr.parse("fe80::/10");
        return InterfaceAddresses.ips(tools, family).stream().filter(ip -> !linkLocal.contains(ip)).toList();
    }

}
