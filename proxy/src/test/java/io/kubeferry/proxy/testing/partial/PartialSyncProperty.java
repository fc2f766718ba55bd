package io.kubeferry.proxy.testing.partial;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.state.ClusterState;
import io.kubeferry.proxy.state.StateSource;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.trace.Packet;
import io.kubeferry.proxy.testing.trace.PacketScenario;
import io.kubeferry.proxy.testing.trace.PacketTracer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The property: any history of Service and EndpointSlice changes, applied as the agent applies it (the watch
 * side feeds a {@link ClusterState}; each sync takes a snapshot and asks the dataplane for a partial sync of
 * the changed Service ports, after a full first one), leaves the kernel as one full sync of the final objects
 * leaves fresh fakes. Checked on the normalised kernel state and, because some order is normalised away, on
 * what packets to every Service address do in both kernels.
 */
public final class PartialSyncProperty {

    private static final String CLIENT = "198.18.2.50";
    /** The comment of upstream's (and kube-ferry's) NodePort catch-all in nat KUBE-SERVICES. */
    private static final String MUST_BE_LAST = "NOTE: this must be the last rule in this chain";
    private static final String POD = "198.18.0.100";

    private PartialSyncProperty() {
    }

    /**
     * Runs {@code sequences} random histories with seeds {@code firstSeed}, {@code firstSeed + 1}, ...; a failure
     * names the seed (rerun one with {@code -Dkubeferry.seed=N}) and the history; {@code -Dkubeferry.sequences=N}
     * runs more (or fewer).
     */
    public static void check(String mode, Supplier<PartialSyncTarget> fresh, int sequences, long firstSeed) throws DataplaneException {
        Long only = Long.getLong("kubeferry.seed");
        long start = only != null ? only : firstSeed;
        int count = only != null ? 1 : Integer.getInteger("kubeferry.sequences", sequences);
        for (long seed = start; seed < start + count; seed++) {
            run(mode, fresh, seed);
        }
    }

    static void run(String mode, Supplier<PartialSyncTarget> fresh, long seed) throws DataplaneException {
        ClusterChurn churn = new ClusterChurn(seed);
        java.util.Random steps = new java.util.Random(seed ^ 0x5DEECE66DL);
        ClusterState watched = state();
        PartialSyncTarget partial = fresh.get();
        int initial = 3 + steps.nextInt(3);
        for (int i = 0; i < initial; i++) {
            churn.step(sink(watched));
        }
        StateSource.Snapshot first = watched.take();
        String context = "";
        try {
            context = "first sync";
            partial.dataplane().sync(SyncRequest.full(first.state()));
            int syncs = 5 + steps.nextInt(15);
            for (int s = 0; s < syncs; s++) {
                int changes = 1 + steps.nextInt(3);
                for (int c = 0; c < changes; c++) {
                    churn.step(sink(watched));
                }
                StateSource.Snapshot snapshot = watched.take();
                context = "partial sync " + (s + 1) + " of " + snapshot.changed();
                partial.dataplane().sync(new SyncRequest(snapshot.state(), snapshot.changed(), false));
            }
            context = "settling";
            partial.settle().run();
        } catch (DataplaneException | RuntimeException e) {
            throw new AssertionError(mode + " seed " + seed + ": " + context + " failed: " + e.getMessage() + "\n" + history(churn), e);
        }

        ClusterState relisted = state();
        churn.replay(sink(relisted));
        StateSource.Snapshot last = relisted.take();
        PartialSyncTarget full = fresh.get();
        full.dataplane().sync(SyncRequest.full(last.state()));
        full.settle().run();

        String history = history(churn);
        String expected = full.kernelState().get();
        String actual = partial.kernelState().get();
        if (!expected.equals(actual)) {
            fail(mode + " seed " + seed + ": partial syncs left another kernel than one full sync of the final objects\n"
                    + diff(expected, actual) + history);
        }
        PacketTracer partialTracer = partial.tracer().get();
        PacketTracer fullTracer = full.tracer().get();
        for (Packet packet : probes(last.state().services().values())) {
            assertEquals(fullTracer.trace(packet).outcome(), partialTracer.trace(packet).outcome(),
                    () -> mode + " seed " + seed + ": " + packet + " differs\n" + history);
        }
    }

    /**
     * The iptables tables of a {@link FakeNetfilter} as text: chains sorted by name (declaration order means
     * nothing), each with its rules in order, except in {@code unordered} chains ({@code table/chain}) whose
     * rules are sorted (their order depends on history), except that a last rule saying it must be the last
     * stays last. Counters: the fake keeps none.
     */
    public static String iptablesState(FakeNetfilter netfilter, Set<String> unordered) {
        StringBuilder out = new StringBuilder();
        for (String table : List.of("mangle", "filter", "nat")) {
            out.append('*').append(table).append('\n');
            for (String chain : new TreeSet<>(netfilter.chains(table))) {
                List<String> rules = new ArrayList<>(netfilter.rules(table, chain));
                if (unordered.contains(table + "/" + chain) && !rules.isEmpty()) {
                    // The NodePort catch-all must stay last: held there only when it is there.
                    String last = rules.get(rules.size() - 1).contains(MUST_BE_LAST) ? rules.remove(rules.size() - 1) : null;
                    Collections.sort(rules);
                    if (last != null) {
                        rules.add(last);
                    }
                }
                out.append(':').append(chain).append('\n');
                rules.forEach(r -> out.append("-A ").append(chain).append(' ').append(r).append('\n'));
            }
        }
        return out.toString();
    }

    /** The lines only one side has, with the section (table, chain, set) each is in. */
    static String diff(String full, String partial) {
        StringBuilder out = new StringBuilder();
        List<String> a = full.lines().toList();
        List<String> b = partial.lines().toList();
        int i = 0;
        int j = 0;
        String section = "";
        while (i < a.size() || j < b.size()) {
            if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
                if (a.get(i).startsWith("*") || a.get(i).startsWith(":")) {
                    section = a.get(i);
                }
                i++;
                j++;
                continue;
            }
            // Resynchronise on the next line both still have.
            int nextA = i;
            int nextB = j;
            search : for (int k = i; k < a.size(); k++) {
                for (int l = j; l < b.size(); l++) {
                    if (a.get(k).equals(b.get(l))) {
                        nextA = k;
                        nextB = l;
                        break search;
                    }
                }
                nextA = a.size();
                nextB = b.size();
            }
            out.append("  in ").append(section).append(":\n");
            for (int k = i; k < nextA; k++) {
                out.append("    full only:    ").append(a.get(k)).append('\n');
            }
            for (int l = j; l < nextB; l++) {
                out.append("    partial only: ").append(b.get(l)).append('\n');
            }
            i = nextA;
            j = nextB;
        }
        return out.toString();
    }

    private static ClusterState state() {
        return new ClusterState(io.kubeferry.proxy.testing.Fixtures.NODE, "", Set.of(), new SimpleMeterRegistry());
    }

    private static String history(ClusterChurn churn) {
        return "history (rerun with -Dkubeferry.seed=N):\n  " + String.join("\n  ", churn.log());
    }

    /** One packet to every address and port each Service answers on, from where such packets come. */
    static List<Packet> probes(Iterable<ResolvedService> services) {
        List<Packet> out = new ArrayList<>();
        Set<ServicePortName> seen = new HashSet<>();
        for (ResolvedService svc : services) {
            var p = svc.port();
            if (!seen.add(p.name())) {
                continue;
            }
            out.add(new Packet(POD, p.clusterIP(), p.protocol(), p.port(), Packet.Origin.POD));
            out.add(new Packet(CLIENT, p.clusterIP(), p.protocol(), p.port(), Packet.Origin.OUTSIDE));
            out.add(new Packet(PacketScenario.NODE_IP, p.clusterIP(), p.protocol(), p.port(), Packet.Origin.NODE));
            if (p.nodePort() > 0) {
                out.add(new Packet(CLIENT, PacketScenario.NODE_IP, p.protocol(), p.nodePort(), Packet.Origin.OUTSIDE));
                out.add(new Packet(POD, PacketScenario.NODE_IP, p.protocol(), p.nodePort(), Packet.Origin.POD));
            }
            for (String ip : p.externalIPs()) {
                out.add(new Packet(CLIENT, ip, p.protocol(), p.port(), Packet.Origin.OUTSIDE));
            }
            for (String ip : p.loadBalancerIPs()) {
                out.add(new Packet(CLIENT, ip, p.protocol(), p.port(), Packet.Origin.OUTSIDE));
                out.add(new Packet("198.18.3.50", ip, p.protocol(), p.port(), Packet.Origin.OUTSIDE));
            }
        }
        return out;
    }

    /** Feeds changes to the state as the watch side does. */
    private static ClusterChurn.Sink sink(ClusterState state) {
        return (object, deleted) -> {
            if (object instanceof Service s) {
                if (deleted) {
                    state.onServiceDeleted(s);
                } else {
                    state.onService(s);
                }
            } else if (object instanceof EndpointSlice e) {
                if (deleted) {
                    state.onSliceDeleted(e);
                } else {
                    state.onSlice(e);
                }
            } else {
                throw new IllegalArgumentException("not a Service or EndpointSlice: " + object);
            }
        };
    }
}
