package io.kubeferry.nftables;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The first sync after a start, from the table an earlier run left (issue 12 item 3; upstream's readOrReset does
 * the same for its sets and maps only): the table is read back once ({@code nft -j list table ip kube-proxy}, or
 * {@code ip6 kube-proxy} for an IPv6 instance), its
 * map and set elements become the element diff's "before", and of the full sync's transaction only what changes
 * the kernel is written: a chain whose rules the kernel already holds as rendered, a set or map already as
 * defined and filled, is left alone, so a restart with nothing changed writes (almost) nothing and nothing that
 * carries traffic is flushed. The kernel table afterwards is exactly what the full transaction gives.
 *
 * <p>A table kube-ferry did not lay out (other base chains or priorities, sets of other types, upstream kube-proxy's
 * numgen vmap dispatch, an object or expression kube-ferry never writes) is not taken over piecemeal: the caller
 * falls back to the atomic full refill, and the reason is logged.
 */
final class NftTakeover {

    private static final Logger LOG = LoggerFactory.getLogger(NftTakeover.class);

    /** How the first sync after a start went, counted: {@code taken-over}, {@code full-refill}, {@code no-table}. */
    record Outcomes(Counter takenOver, Counter fullRefill, Counter noTable) {

        /** One family's counters (each family's instance reads its own table back). */
        static Outcomes register(MeterRegistry registry, NftFamily family) {
            String name = "kubeferry.nftables.start.readback";
            String help = "First syncs after a start: table read back and taken over, fully refilled, or no table to read";
            String ipFamily = family.ipFamily().apiName();
            return new Outcomes(
                    Counter.builder(name).tag("outcome", "taken-over").tag("ip_family", ipFamily).description(help).register(registry),
                    Counter.builder(name).tag("outcome", "full-refill").tag("ip_family", ipFamily).description(help).register(registry),
                    Counter.builder(name).tag("outcome", "no-table").tag("ip_family", ipFamily).description(help).register(registry));
        }
    }

    /**
     * Above this many chains the table is refilled rather than read back. Measured on a 2-core machine
     * (NftRestartBenchmark, 5 endpoints per Service): at 1,000 Services (6,016 chains) reading back and writing nothing
     * took about as long as the refill (3.8 s against 3.7 s); at 10,000 (60,016 chains) {@code nft -j list table}
     * alone took 19 s for 55 MB of JSON and about 1 GB of nft's memory, parsing it 5 to 10 s more, against 12 to 19 s
     * for the refill's 33 MB transaction (760 MB for nft). Both keep traffic flowing (the refill is atomic).
     */
    static final int READ_BACK_MAX_CHAINS = 20_000;

    private final NftKernelTable kernel;

    NftTakeover(NftKernelTable kernel) {
        this.kernel = kernel;
    }

    NftKernelTable kernel() {
        return kernel;
    }

    /**
     * Reads the table back; null when there is none or it is not kube-ferry's to take over (counted and logged: the
     * caller does today's full refill).
     */
    static NftTakeover read(ToolRunner tools, NftFamily nftFamily, Outcomes outcomes) throws ToolException {
        String family = nftFamily.name();
        String table = NftablesRenderer.TABLE;
        long start = System.nanoTime();
        // The chain names first (cheap: 0.6 s at 60,000 chains): a table too large to read back pays more than it saves.
        ToolResult names = tools.runAllowingFailure(ToolCommand.of("nft", "list", "chains", family));
        int chains = names.ok() ? NftListing.names(names.stdout(), family, table, "chain").size() : 0;
        if (chains > READ_BACK_MAX_CHAINS) {
            return fallBack(outcomes, nftFamily, chains + " chains: reading them back costs more than refilling them (more than "
                    + READ_BACK_MAX_CHAINS + ")");
        }
        ToolResult listed = tools.runAllowingFailure(
                ToolCommand.of("nft", "-j", "list", "table", family, table).withTimeout(Duration.ofMinutes(5)));
        if (!listed.ok()) {
            if (listed.stderr().contains("No such file or directory")) {
                outcomes.noTable().increment();
                return null;
            }
            return fallBack(outcomes, nftFamily, "nft -j list table failed: " + listed.stderr().strip());
        }
        NftKernelTable parsed;
        try {
            parsed = NftKernelTable.parse(listed.stdout(), family, table);
        } catch (IllegalArgumentException e) {
            return fallBack(outcomes, nftFamily, "its listing could not be parsed: " + e.getMessage());
        }
        String foreign = parsed.upstreamDispatch() != null
                ? "its Service chains dispatch with numgen ... vmap { } (upstream kube-proxy's table), e.g. " + parsed.upstreamDispatch()
                : parsed.notUnderstood() != null ? "it holds what kube-ferry never writes: " + parsed.notUnderstood() : null;
        if (foreign != null) {
            return fallBack(outcomes, nftFamily, foreign);
        }
        LOG.info("nftables: read back table {} {} ({} chains, {} sets and maps) in {} ms", family, table, parsed.chains().size(),
                parsed.containers().size(), (System.nanoTime() - start) / 1_000_000);
        return new NftTakeover(parsed);
    }

    static NftTakeover fallBack(Outcomes outcomes, NftFamily family, String why) {
        outcomes.fullRefill().increment();
        LOG.info("nftables: not taking table {} {} over ({}): full refill", family.name(), NftablesRenderer.TABLE, why);
        return null;
    }

    /** The kernel's elements of the diffed sets and maps, as the memory a full sync diffs against. */
    NftMemory memory() {
        Map<String, Map<String, String>> elements = new HashMap<>();
        for (String c : NftablesRenderer.DIFFED) {
            elements.put(c, kernel.elements().getOrDefault(c, Map.of()));
        }
        return new NftMemory(Map.of(), elements, Map.of(), Set.of(), Map.of(), kernel.chains().keySet(), Set.of(), Map.of());
    }

    /** The table's chains and sets by name: every per-Service one the state no longer wants is flushed as stale. */
    NftablesRenderer.KernelObjects objects() {
        return new NftablesRenderer.KernelObjects(kernel.chains().keySet(), kernel.containers().keySet());
    }

    /** The transaction that changes something, or why the table cannot be taken over piecemeal. */
    record Reduced(NftTransaction tx, String foreign) {
    }

    /**
     * Drops from {@code full} every operation on an object whose end state the kernel already holds: a chain's
     * add/flush/rules when its rules after them equal the kernel's, a set's or map's definition and elements when
     * they end as the kernel has them, the table's add. The rest is kept in its order, so it applies as the full
     * transaction would have, to the same table.
     */
    Reduced reduce(NftTransaction full) {
        List<NftTransaction.Op> ops = full.ops();
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            groups.computeIfAbsent(key(ops.get(i).object()), k -> new ArrayList<>()).add(i);
        }
        Set<String> written = new java.util.HashSet<>();
        for (NftTransaction.Op op : ops) {
            if (op.object() instanceof NftObject.Chain c && c.base() != null) {
                written.add(c.name());
            }
        }
        for (NftKernelTable.Chain c : kernel.chains().values()) {
            if (c.base() != null && !written.contains(c.name())) {
                return new Reduced(null, "base chain " + c.name() + " (" + describe(c.base()) + ") is not one kube-ferry writes");
            }
        }
        boolean[] drop = new boolean[ops.size()];
        for (Map.Entry<String, List<Integer>> g : groups.entrySet()) {
            List<NftTransaction.Op> group = g.getValue().stream().map(ops::get).toList();
            Verdict v = g.getKey().equals("table")
                    ? tableVerdict(group)
                    : g.getKey().startsWith("chain ")
                            ? chainVerdict(g.getKey().substring(6), group)
                            : containerVerdict(g.getKey().substring(4), group);
            if (v.foreign() != null) {
                return new Reduced(null, v.foreign());
            }
            if (v.unchanged()) {
                g.getValue().forEach(i -> drop[i] = true);
            }
        }
        NftTransaction out = new NftTransaction(full.family(), full.table());
        for (int i = 0; i < ops.size(); i++) {
            if (!drop[i]) {
                out.op(ops.get(i).verb(), ops.get(i).object());
            }
        }
        return new Reduced(out, null);
    }

    private record Verdict(boolean unchanged, String foreign) {

        static final Verdict SAME = new Verdict(true, null);
        static final Verdict CHANGED = new Verdict(false, null);
    }

    private static String key(NftObject o) {
        if (o instanceof NftObject.Table) {
            return "table";
        }
        if (o instanceof NftObject.Chain c) {
            return "chain " + (c.name() != null ? c.name() : "#" + c.handle());
        }
        if (o instanceof NftObject.Rule r) {
            return "chain " + r.chain();
        }
        if (o instanceof NftObject.Container s) {
            return "set " + s.name();
        }
        return "set " + ((NftObject.Element) o).container();
    }

    private static Verdict tableVerdict(List<NftTransaction.Op> group) {
        return group.stream().allMatch(op -> op.verb() == NftTransaction.Verb.ADD) ? Verdict.SAME : Verdict.CHANGED;
    }

    private Verdict chainVerdict(String name, List<NftTransaction.Op> group) {
        NftKernelTable.Chain had = kernel.chains().get(name);
        boolean exists = had != null;
        NftObject.Base base = exists ? had.base() : null;
        List<String> rules = exists ? new ArrayList<>(had.rules()) : null;
        for (NftTransaction.Op op : group) {
            if (op.object() instanceof NftObject.Chain c) {
                switch (op.verb()) {
                    case ADD -> {
                        if (!exists) {
                            exists = true;
                            base = c.base();
                            rules = new ArrayList<>();
                        } else if (c.base() != null && !c.base().equals(base)) {
                            // The kernel cannot change a base chain in place: only the fresh sync's delete and add can.
                            return new Verdict(false, "chain " + name + " is " + (base == null ? "a regular chain" : describe(base))
                                    + ", kube-ferry writes " + describe(c.base()));
                        }
                    }
                    case FLUSH -> {
                        if (!exists) {
                            return Verdict.CHANGED;
                        }
                        rules.clear();
                    }
                    default -> {
                        return Verdict.CHANGED;
                    }
                }
            } else {
                NftObject.Rule r = (NftObject.Rule) op.object();
                if (op.verb() != NftTransaction.Verb.ADD || r.handle() != null || !exists) {
                    return Verdict.CHANGED;
                }
                rules.add(NftRuleText.normalise(r.comment() == null ? r.rule() : r.rule() + " comment \"" + r.comment() + "\""));
            }
        }
        return had != null && Objects.equals(base, had.base()) && rules.equals(had.rules()) ? Verdict.SAME : Verdict.CHANGED;
    }

    private Verdict containerVerdict(String name, List<NftTransaction.Op> group) {
        NftObject.Container had = kernel.containers().get(name);
        Map<String, String> hadElements = kernel.elements().get(name);
        boolean exists = had != null;
        long timeout = exists ? had.timeoutSeconds() : 0;
        Map<String, String> elements = exists && hadElements != null ? new HashMap<>(hadElements) : null;
        for (NftTransaction.Op op : group) {
            if (op.object() instanceof NftObject.Container s) {
                switch (op.verb()) {
                    case ADD -> {
                        if (!exists) {
                            exists = true;
                            timeout = s.timeoutSeconds();
                            elements = new HashMap<>();
                        } else if (s.map() != had.map() || !NftKernelTable.listedType(s.type()).equals(had.type())
                                || !flags(s).equals(flags(had))) {
                            return new Verdict(false, s.kind() + " " + name + " is \"" + had.type() + "\" " + flags(had)
                                    + ", kube-ferry writes \"" + s.type() + "\" " + flags(s));
                        } else {
                            timeout = s.timeoutSeconds();
                        }
                    }
                    case FLUSH -> {
                        if (!exists || elements == null) {
                            return Verdict.CHANGED;
                        }
                        elements.clear();
                    }
                    case DELETE, DESTROY -> {
                        exists = false;
                        elements = null;
                    }
                    default -> {
                        return Verdict.CHANGED;
                    }
                }
            } else {
                NftObject.Element e = (NftObject.Element) op.object();
                if (elements == null) {
                    return Verdict.CHANGED;
                }
                if (op.verb() == NftTransaction.Verb.ADD) {
                    String value = ElementDiff.stored(e);
                    String before = elements.put(e.keyText(), value);
                    if (before != null && !before.equals(value)) {
                        return Verdict.CHANGED;
                    }
                } else if (op.verb() == NftTransaction.Verb.DELETE && elements.remove(e.keyText()) != null) {
                    continue;
                } else {
                    return Verdict.CHANGED;
                }
            }
        }
        if (had == null || !exists) {
            return had == null && !exists ? Verdict.SAME : Verdict.CHANGED;
        }
        return timeout == had.timeoutSeconds() && Objects.equals(elements, hadElements) ? Verdict.SAME : Verdict.CHANGED;
    }

    /** A set's flags as the kernel lists them: nft 1.0.6's JSON leaves "dynamic" out (its text listing has it). */
    private static Set<String> flags(NftObject.Container s) {
        Set<String> out = new java.util.TreeSet<>(s.flags());
        out.remove("dynamic");
        return out;
    }

    private static String describe(NftObject.Base b) {
        return "type " + b.type() + " hook " + b.hook() + " priority " + b.priority();
    }
}
