package io.kubeferry.nftables;

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
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import io.kubeferry.proxy.scheduler.SchedulerFallbacks;
import io.micrometer.core.instrument.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * nftables mode. Each sync is one {@code nft -f -} of the renderer's transaction (plus, when chains made stale by
 * an earlier sync are old enough, one small transaction deleting them after it). Thin on purpose:
 * everything interesting is in {@link NftablesRenderer}. One instance per IP family ({@link DataplaneContext#family()}),
 * as upstream's MetaProxier runs one proxier per family: an instance reads, writes, checks and deletes only its own
 * family's table ({@code ip kube-proxy} or {@code ip6 kube-proxy}).
 */
final class NftablesDataplane implements Dataplane {

    private static final Logger LOG = LoggerFactory.getLogger(NftablesDataplane.class);

    private final ProxyConfig config;
    private final ToolRunner tools;
    /** The algorithms this mode can express and the node's default; asked per Service after each sync. */
    private final SchedulerCatalog schedulers;
    private final SchedulerFallbacks fallbacks;
    /** The algorithm in force per port, of the last successful sync or render (for /debug/state and render). */
    private volatile Map<ServicePortName, SchedulerInForce> inForce = Map.of();
    private final NftablesRenderer renderer;
    private final Counter syncFailures;
    /** The Node's addresses {@link #settings} were made for: a change makes them anew. */
    private List<String> settingsNodeAddresses = List.of();
    private final Counter cleanupFailures;

    private NftablesSettings settings = NftablesSettings.defaults();
    /** What the last applied transaction left; null until the first sync and after a failure (the next is fresh). */
    private NftMemory memory;
    /** The rules in the per-Service chains, as of the last sync that applied (the sync result's figure). */
    private int rules;
    private boolean synced;
    /** Set by the first sync of this process: only it reads the table back (later ones trust the memory or refill). */
    private boolean started;
    private final NftTakeover.Outcomes takeovers;

    /** System.nanoTime, or a test's clock: stale chains are deleted a second after they were flushed. */
    private final LongSupplier clock;
    private final NftablesKernelCheck kernelCheck;
    /** The family of this instance's table. */
    private final NftFamily family;

    NftablesDataplane(DataplaneContext context) {
        this(context, System::nanoTime);
    }

    NftablesDataplane(DataplaneContext context, LongSupplier clock) {
        this(context, clock, NftablesKernelCheck.system());
    }

    NftablesDataplane(DataplaneContext context, LongSupplier clock, NftablesKernelCheck kernelCheck) {
        this.clock = clock;
        this.kernelCheck = kernelCheck;
        this.config = context.config();
        this.tools = context.tools();
        this.family = NftFamily.of(context.family());
        // Every table-driven algorithm (ServiceDispatch: numgen random/inc cascades, jhash into the shared slot map).
        NftablesScheduling scheduling = NftablesScheduling.of(config);
        this.schedulers = scheduling.catalog();
        this.renderer = new NftablesRenderer(new NftNames(200_000), scheduling, family);
        this.fallbacks = new SchedulerFallbacks(context.events());
        // Upstream's names and help (k/k pkg/proxy/metrics).
        this.syncFailures = Counter.builder("kubeproxy.sync.proxy.rules.nftables.sync.failures")
                .tag("ip_family", context.family().apiName()).description("Cumulative proxy nftables sync failures")
                .register(context.metrics());
        this.takeovers = NftTakeover.Outcomes.register(context.metrics(), family);
        this.cleanupFailures = Counter.builder("kubeproxy.sync.proxy.rules.nftables.cleanup.failures")
                .tag("ip_family", context.family().apiName()).description("Cumulative proxy nftables cleanup failures")
                .register(context.metrics());
    }

    @Override
    public String mode() {
        return "nftables";
    }

    /**
     * Upstream's minimum kernel, with its escape hatch, then nft's version and nf_tables (see {@link NftablesKernelCheck});
     * for an IPv6 instance, first that the kernel has IPv6 at all.
     */
    @Override
    public void checkKernel() throws DataplaneException {
        kernelCheck.check(tools, family);
    }

    @Override
    public String render(SyncRequest request) {
        // No kernel to ask: the node's addresses are the Node object's (or --node-ip's).
        NftablesSettings shown = settings(config, family.ipFamily(), request.state().node().addresses(), request.state().serviceCIDRs());
        // What sync applies: the chain-block form.
        String text = renderer.render(request.state(), shown, Set.of(), true, null, null, 0).main().renderBlocks();
        inForce = schedulers.inForce(request.state());
        return text;
    }

    /**
     * The catalog's choice per port: in this mode it is final once the algorithm's slot table is built (a plugin that
     * throws falls back inside the dispatch and is reported by its Warning Event, not here).
     */
    @Override
    public Map<ServicePortName, SchedulerInForce> schedulers() {
        return inForce;
    }

    @Override
    public SyncResult sync(SyncRequest request) throws DataplaneException {
        long start = clock.getAsLong();
        long began = System.nanoTime();
        List<String> nodeAddresses = request.state().node().addresses();
        // The Node's addresses name the primary IP the NodePort set holds, and the ServiceCIDRs the drop rule of the
        // fixed chains: a change of either rewrites them (a full sync, as upstream writes them only then).
        // No memory: the first sync, or the kernel is in doubt (a failure, a lost table, a cleanup).
        List<Cidr> serviceCIDRs = request.state().serviceCIDRs();
        boolean full = request.full() || memory == null || !nodeAddresses.equals(settingsNodeAddresses)
                || !texts(serviceCIDRs).equals(settings.serviceCIDRs());
        try {
            if (full) {
                settings = settings(config, family.ipFamily(), NodePortAddresses.primaryFirst(nodeAddresses, localAddresses()),
                        serviceCIDRs);
                settingsNodeAddresses = nodeAddresses;
            }
            // From scratch (first sync, or the kernel is in doubt): the chains and sets an earlier run left are read
            // back by name, so the stale ones among them are flushed and deleted like any other. The first sync after a
            // start reads the whole table back instead and writes only what differs (NftTakeover).
            NftTakeover takeover = memory == null && !started ? NftTakeover.read(tools, family, takeovers) : null;
            started = true;
            NftSync sync = takeover == null ? null : takeover(takeover, request, start);
            if (sync == null) {
                NftablesRenderer.KernelObjects kernel = memory == null ? kernelObjects() : null;
                sync = renderer.render(request.state(), settings, request.changed(), full, memory, kernel, start);
            }
            long rendered = System.nanoTime();
            NftMemory next = sync.next();
            // Chain blocks, not single rule adds: nft then does not dump every chain of the ruleset before the batch.
            String text = sync.main().renderBlocks();
            if (!sync.main().isEmpty()) {
                try {
                    tools.run(ToolCommand.of("nft", "-f", "-").withStdin(text));
                } catch (ToolException e) {
                    syncFailures.increment();
                    throw e;
                }
            }
            long appliedAt = System.nanoTime();
            // Stale chains go after the sync, not before it: deleting makes nft dump every chain first (~300 ms at
            // 10,000 Services), which would delay the change itself. Nothing this sync wrote refers to them (the
            // renderer never deletes a chain the new state wants), so the order does not change what the table holds.
            boolean cleanupFailed = false;
            if (!sync.cleanup().isEmpty()) {
                try {
                    apply(sync.cleanup());
                } catch (ToolException e) {
                    // The chains stay, flushed; the next sync reads the table's chains back and tries again.
                    cleanupFailures.increment();
                    LOG.warn("could not delete stale nftables chains; retried by the next sync: {}", e.getMessage());
                    cleanupFailed = true;
                }
            }
            rules = ruleCount(sync, memory);
            // After a failed cleanup the memory no longer knows those chains: start the next sync from the kernel.
            memory = cleanupFailed ? null : next;
            synced = true;
            fallbacks.report(schedulers.fallbacks(request.state()));
            inForce = schedulers.inForce(request.state());
            return new SyncResult(sync.full(), Duration.ofNanos(rendered - began), Duration.ofNanos(appliedAt - rendered),
                    Map.of(NftablesRenderer.TABLE, rules), text.length());
        } catch (ToolException e) {
            // What the kernel holds is unknown now: the next sync starts from scratch.
            memory = null;
            throw new DataplaneException((full ? "full" : "partial") + " nftables sync failed: " + e.getMessage(), e);
        }
    }

    /**
     * The full sync rendered against the table read back (its elements as the diff's memory, its chains as the stale
     * candidates), reduced to what changes the kernel; null when the table's layout is not kube-ferry's (logged).
     */
    private NftSync takeover(NftTakeover takeover, SyncRequest request, long start) {
        NftSync rendered = renderer.render(request.state(), settings, Set.of(), true, takeover.memory(), takeover.objects(), start);
        NftTakeover.Reduced reduced = takeover.reduce(rendered.main());
        if (reduced.foreign() != null) {
            NftTakeover.fallBack(takeovers, family, reduced.foreign());
            return null;
        }
        takeovers.takenOver().increment();
        LOG.info("nftables: took table {} {} over: writing {} of the full sync's {} commands", family.name(),
                NftablesRenderer.TABLE, reduced.tx().size(), rendered.main().size());
        LOG.debug("nftables: take-over transaction:\n{}", reduced.tx().render());
        return new NftSync(rendered.cleanup(), reduced.tx(), rendered.next(), true, Set.of());
    }

    private NftablesRenderer.KernelObjects kernelObjects() throws ToolException {
        String family = this.family.name();
        String table = NftablesRenderer.TABLE;
        ToolResult chains = tools.runAllowingFailure(ToolCommand.of("nft", "list", "chains", family));
        ToolResult sets = tools.runAllowingFailure(ToolCommand.of("nft", "-t", "list", "sets", family));
        // Maps too, for the scheduler slot map an earlier run may have left ("list sets" shows no maps).
        ToolResult maps = tools.runAllowingFailure(ToolCommand.of("nft", "-t", "list", "maps", family));
        Set<String> containers = new java.util.HashSet<>(sets.ok() ? NftListing.names(sets.stdout(), family, table, "set") : Set.of());
        if (maps.ok()) {
            containers.addAll(NftListing.names(maps.stdout(), family, table, "map"));
        }
        return new NftablesRenderer.KernelObjects(
                chains.ok() ? NftListing.names(chains.stdout(), family, table, "chain") : Set.of(), containers);
    }

    private void apply(NftTransaction tx) throws ToolException {
        tools.run(ToolCommand.of("nft", "-f", "-").withStdin(tx.renderBlocks()));
    }

    /**
     * The rules in the per-Service chains after {@code sync}: counted over every program on a full sync, and from
     * the touched ports' old and new programs on a partial one (counting all 60,000 chains' bodies on every sync
     * cost more than rendering a one-Service change at 10,000 Services).
     */
    private int ruleCount(NftSync sync, NftMemory before) {
        if (sync.full() || before == null) {
            return sync.next().programs().values().stream().mapToInt(NftablesDataplane::rules).sum();
        }
        int count = rules;
        for (ServicePortName name : sync.touched()) {
            ServiceProgram old = before.programs().get(name);
            ServiceProgram now = sync.next().programs().get(name);
            count += (now == null ? 0 : rules(now)) - (old == null ? 0 : rules(old));
        }
        return count;
    }

    private static int rules(ServiceProgram program) {
        int n = 0;
        for (NftObject o : program.body()) {
            if (o instanceof NftObject.Rule) {
                n++;
            }
        }
        return n;
    }

    /**
     * Gone when someone flushed the ruleset or deleted the table: a small map every full sync declares stands for
     * the table, so the check costs one tiny listing, not the whole table (listing it took 40 s at 44,000 Services,
     * k/k#139513). A map, not a chain: nft lists a chain with every set's elements in its cache (230 ms at 10,000
     * Services, 53 netlink reads, on the sync worker every syncPeriod), a named set or map with its own (16 ms).
     * What this does not see: {@code nft flush table}, which (nft 1.0.6, kernel 6.18) empties the chains but keeps
     * every set and map; the hourly full sync rewrites such a table, and a flushed ruleset or deleted table, the case
     * operators meet, is seen here at once.
     */
    @Override
    public boolean kernelStateLost() {
        if (!synced) {
            return false;
        }
        try {
            ToolResult listed = tools.runAllowingFailure(ToolCommand.of("nft", "list", "map", family.name(),
                    NftablesRenderer.TABLE, NftablesRenderer.NO_ENDPOINT_NODEPORTS));
            if (!listed.ok()) {
                LOG.warn("nftables table {} {} or its map {} is gone (ruleset flushed?): next sync is full",
                        family.name(), NftablesRenderer.TABLE, NftablesRenderer.NO_ENDPOINT_NODEPORTS);
                memory = null;
                return true;
            }
        } catch (ToolException e) {
            LOG.warn("cannot check the nftables table: {}", e.getMessage());
        }
        return false;
    }

    @Override
    public boolean hasLeftovers() {
        try {
            return tools.runAllowingFailure(ToolCommand.of("nft", "list", "table", family.name(), NftablesRenderer.TABLE)).ok();
        } catch (ToolException e) {
            // No nft on the node: nothing of this mode can be there either.
            LOG.debug("nft: {}", e.getMessage());
            return false;
        }
    }

    /**
     * Upstream's CleanupLeftovers: the table goes, everything in it with it. Only this instance's family's table:
     * upstream deletes both, and the agent cleans up each family with its own instance.
     */
    @Override
    public CleanupReport cleanup() {
        CleanupReport report = CleanupReport.of(mode());
        memory = null;
        synced = false;
        try {
            ToolResult deleted = tools
                    .runAllowingFailure(ToolCommand.of("nft", "delete", "table", family.name(), NftablesRenderer.TABLE));
            if (deleted.ok()) {
                return report.plus("tables", 1);
            }
            if (deleted.stderr().contains("No such file or directory")) {
                return report;
            }
            return report
                    .failed("nft delete table " + family.name() + " " + NftablesRenderer.TABLE + ": " + deleted.stderr().strip());
        } catch (ToolException e) {
            return report.failed("nft delete table: " + e.getMessage());
        }
    }

    /**
     * The settings for this node's {@code family} table. {@code nodePortAddresses} empty means {@code primary} in
     * nftables mode (upstream server_linux.go); {@code all}, 0.0.0.0/0 or ::/0 opens NodePorts on every local address
     * of the family; loopback never counts. As upstream's NewNodePortAddresses(family, ...), only the family's CIDRs
     * count, and a list with none of them opens every address of the family (an IPv4-only list leaves a dual-stack
     * node's IPv6 NodePorts on every IPv6 address). The pod CIDR is the family's entry of clusterCIDR. The state's
     * ServiceCIDRs (none: no drop rule for unallocated ClusterIPs, as upstream without them).
     */
    static NftablesSettings settings(ProxyConfig config, IpFamily family, List<String> addresses, List<Cidr> serviceCIDRs) {
        String localCIDR = config.clusterCIDR(family);
        // Keywords (primary, localhost, all) hold for every family; a CIDR only for its own; none of the family's: [all].
        List<String> entries = NodePortAddresses.forFamily(config.nodePortAddresses(), family);
        List<String> nodePortIPs;
        if (entries.contains("all") || entries.contains(family.any())) {
            nodePortIPs = null;
        } else {
            nodePortIPs = NodePortAddresses.select(entries.isEmpty() ? List.of("primary") : entries, addresses);
        }
        return new NftablesSettings(String.format("0x%x", 1 << config.nftables().masqueradeBit()), config.nftables().masqueradeAll(),
                localCIDR, nodePortIPs, NodePortAddresses.primary(addresses), texts(serviceCIDRs));
    }

    /**
     * The kernel's addresses of this instance's family ({@code ip -o -4 addr show}, or {@code -6}); IPv6 link-local ones
     * (fe80::/10, on every interface) last, so that without a Node address the primary is a routable one.
     */
    private List<String> localAddresses() throws ToolException {
        List<String> all = InterfaceAddresses.ips(tools, family.ipFamily());
        if (family.ipFamily() != IpFamily.IPv6) {
            return all;
        }
        Cidr linkLocal = Cidr.parse("fe80::/10");
        List<String> out = new java.util.ArrayList<>(all.stream().filter(a -> !linkLocal.contains(a)).toList());
        all.stream().filter(linkLocal::contains).forEach(out::add);
        return out;
    }

    private static List<String> texts(List<Cidr> cidrs) {
        return cidrs.stream().map(Cidr::toString).toList();
    }

}
