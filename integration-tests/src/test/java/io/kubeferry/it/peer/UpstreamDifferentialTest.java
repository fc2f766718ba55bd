package io.kubeferry.it.peer;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.it.NetnsTestBed;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kube-ferry against upstream kube-proxy 1.35 on the same node, objects and API server ({@link PeerBed}): for each
 * state of a feature-rich object set (initial.yaml; then update.yaml and a deletion) each agent in turn starts on
 * it, and its ruleset is normalised and diffed, once per {@link Flavour}: in iptables mode its {@code iptables-save}
 * and {@code ip6tables-save} (nft flavour, both agents; {@link SavedRuleset}: the order across Services in the chains
 * upstream fills in Go map order is random, so those are ordered by Service); in nftables mode its kube-proxy
 * tables as {@code nft list table} prints them ({@link NftRuleset}); only the differences the flavour's allow-list
 * names (each with its reason, printed every run) may remain. The same traffic
 * probes run against both and must agree in kind: which pod answers, REFUSED or TIMEOUT. Upstream's own run-to-run
 * output is identical on the same objects, so the diff is a stable test. Each agent starts fresh on each state and
 * is cleaned up by its own --cleanup (then checked clean) before the other runs. The cluster and the node are
 * dual-stack: IPv6 and dual-stack Services are in the objects, both agents run an IPv6 proxier, and its ip6tables-save
 * is compared with no allow-listed difference.
 */
class UpstreamDifferentialTest {

    @RegisterExtension
    static final PeerBed BED = new PeerBed();

    private static final AgentConfig.Backend BACKEND = AgentConfig.Backend.NFT;

    /** The proxy mode both agents run in, with what it writes and how that is read back. */
    enum Flavour {

        IPTABLES("iptables", "allow-list.txt"), NFTABLES("nftables", "allow-list-nftables.txt");

        final String mode;
        final String allowList;

        Flavour(String mode, String allowList) {
            this.mode = mode;
            this.allowList = allowList;
        }

        /** The node's ruleset as this mode writes it, as text (compared after {@link #parse}). */
        String save() throws Exception {
            if (this == IPTABLES) {
                return BED.iptablesSave(BACKEND) + "\n#ip6\n" + BED.ip6tablesSave(BACKEND);
            }
            StringBuilder out = new StringBuilder();
            for (String table : BED.nftTables()) {
                if (table.endsWith(" kube-proxy")) {
                    String[] words = table.split(" ");
                    out.append(BED.execInNode("nft", "list", "table", words[1], words[2]));
                }
            }
            return out.toString();
        }

        SavedRuleset parse(String save) {
            if (this == NFTABLES) {
                return NftRuleset.parse(save);
            }
            int split = save.indexOf("\n#ip6\n");
            Map<String, Map<String, SavedRuleset.Chain>> tables = new java.util.TreeMap<>(
                    SavedRuleset.parse(save.substring(0, split)).orderedByService(SavedRuleset.DISPATCH_CHAINS).tables());
            // The IPv6 proxier fills the same chains in Go map order too.
            tables.putAll(SavedRuleset.parse(save.substring(split + 6)).orderedByService(SavedRuleset.DISPATCH_CHAINS).prefixed("ip6 ")
                    .tables());
            return new SavedRuleset(tables);
        }

        /** What the other mode (and the other iptables flavour) would hold: nothing of either agent. */
        List<String> otherModes() throws Exception {
            List<String> saves = new ArrayList<>(List.of("iptables-legacy-save", "ip6tables-legacy-save"));
            if (this == NFTABLES) {
                saves.addAll(List.of("iptables-nft-save", "ip6tables-nft-save"));
            }
            List<String> found = new ArrayList<>();
            for (String save : saves) {
                BED.execInNode(save).lines().filter(l -> l.contains("KUBE-")).forEach(l -> found.add(save + ": " + l));
            }
            if (this == IPTABLES) {
                BED.nftTables().stream().filter(t -> t.contains("kube-proxy")).forEach(t -> found.add("nft: " + t));
            }
            return found;
        }
    }
    private static final String DIR = "/upstream-differential/";
    private static final Set<String> PODS = Set.of("da", "db", "dc");

    /** How a probe's answers are compared: the pod's name, only that a pod answered, or that one pod answered every time. */
    enum Compare {
        EXACT, ANY_POD, SAME_POD
    }

    /** One traffic probe from the client namespace: {@code attempts} tries (stopping at the first that reaches no pod). */
    record Probe(String name, String protocol, String host, int port, int attempts, Compare compare) {

        static Probe tcp(String name, String host, int port) {
            return new Probe(name, "tcp", host, port, 1, Compare.EXACT);
        }
    }

    private static final String NODE_IP = NetnsTestBed.NODE_EXTERNAL_IP;
    private static final List<Probe> PROBES = List.of(
            Probe.tcp("ClusterIP multi:http", "198.19.1.1", 80),
            new Probe("ClusterIP multi:dns (UDP)", "udp", "198.19.1.1", 53, 1, Compare.EXACT),
            Probe.tcp("NodePort np", NODE_IP, 30080),
            Probe.tcp("LoadBalancer lb, client outside the source ranges", "198.19.100.1", 80),
            new Probe("externalIP ext", "tcp", "198.19.200.1", 80, 4, Compare.ANY_POD),
            Probe.tcp("NodePort local (eTP Local)", NODE_IP, 30082),
            new Probe("health check node port of local (HTTP)", "http", NODE_IP, 30300, 1, Compare.EXACT),
            Probe.tcp("LoadBalancer IP local (eTP Local)", "198.19.100.2", 80),
            Probe.tcp("ClusterIP itp (iTP Local)", "198.19.1.6", 80),
            new Probe("ClusterIP sticky (ClientIP affinity)", "tcp", "198.19.1.7", 80, 6, Compare.SAME_POD),
            Probe.tcp("ClusterIP empty (no endpoints)", "198.19.1.8", 80),
            Probe.tcp("NodePort empty (no endpoints)", NODE_IP, 30083),
            Probe.tcp("ClusterIP term (ready + terminating)", "198.19.1.9", 80),
            Probe.tcp("ClusterIP termonly (terminating fallback)", "198.19.1.10", 80),
            Probe.tcp("ClusterIP hints (zone-a only)", "198.19.1.11", 80),
            Probe.tcp("ClusterIP other (service-proxy-name: ignored)", "198.19.1.13", 80),
            // From the node itself (host-network pods, kubelet): its own output path, localhost NodePorts. (Not
            // Service local: from the node, eTP Local uses every endpoint, and one of them is on node-b.)
            new Probe("from the node: ClusterIP multi:http", "node-tcp", "198.19.1.1", 80, 1, Compare.EXACT),
            new Probe("from the node: NodePort np on 127.0.0.1", "node-tcp", "127.0.0.1", 30080, 1, Compare.EXACT),
            new Probe("from the node: NodePort empty on its node IP", "node-tcp", NODE_IP, 30083, 1, Compare.EXACT),
            // IPv6 (the bed is dual-stack): the IPv6 proxier's rules carry the traffic.
            Probe.tcp("ClusterIP dual, its IPv6 address", "2001:db8:f::20", 80),
            Probe.tcp("ClusterIP dual, its IPv4 address", "198.19.1.20", 80),
            Probe.tcp("NodePort dual on the node's IPv6 address", NetnsTestBed.NODE_EXTERNAL_IP6, 30090),
            Probe.tcp("LoadBalancer lb6 (IPv6), client inside the source ranges", "2001:db8:f::a1", 80),
            Probe.tcp("externalIP of lb6 (IPv6)", "2001:db8:f::b1", 80),
            Probe.tcp("LoadBalancer IP local6 (IPv6, eTP Local)", "2001:db8:f::a2", 80),
            // No localhost NodePorts for IPv6 (upstream: ! -d ::1/128), in either agent.
            new Probe("from the node: NodePort dual on ::1", "node-tcp", "::1", 30090, 1, Compare.EXACT));

    /** What one agent produced on one state. */
    record Run(SavedRuleset rules, Map<String, Set<String>> answers, Duration synced) {
    }

    private static boolean podsAdded;

    @ParameterizedTest
    @EnumSource(Flavour.class)
    void sameRulesetAndTrafficAsUpstreamKubeProxy(Flavour flavour) throws Exception {
        BED.assumeAvailable(AgentProcess.Kind.KUBE_PROXY);
        BED.assumeAvailable(AgentProcess.Kind.KUBE_FERRY);
        AllowList allowed = AllowList.load(DIR + flavour.allowList);
        if (!podsAdded) {
            BED.netns().addPod("da", 21);
            BED.netns().addPod("db", 22);
            BED.netns().addPod("dc", 23);
            podsAdded = true;
        }
        KubernetesClient client = BED.client();
        client.nodes().withName(PeerBed.NODE).edit(n -> {
            n.getMetadata().getLabels().put("topology.kubernetes.io/zone", "zone-a");
            return n;
        });
        List<String> failures = new ArrayList<>();

        // Applied again for each flavour: the update batch only changes and deletes objects initial.yaml has.
        apply(client, "initial.yaml");
        Set<String> used = new java.util.HashSet<>();
        Run upstreamInitial = run(flavour, AgentProcess.Kind.KUBE_PROXY);
        // kube-ferry starts on the initial objects and stays up through the update batch (its partial syncs).
        Run[] initialAndLive = runThroughUpdate(flavour, AgentProcess.Kind.KUBE_FERRY);
        compare(flavour + ", initial", upstreamInitial, initialAndLive[0], allowed, used, failures);

        Run upstreamUpdated = run(flavour, AgentProcess.Kind.KUBE_PROXY);
        Run updated = run(flavour, AgentProcess.Kind.KUBE_FERRY);
        compare(flavour + ", after update", upstreamUpdated, updated, allowed, used, failures);
        compare(flavour + ", after update, kube-ferry running through it", upstreamUpdated, initialAndLive[1], allowed, used, failures);

        allowed.entries().stream().filter(e -> !used.contains(e.reason()))
                .forEach(e -> System.out.println("differential: allow-list entry matched nothing this run (stale?): " + e.pattern()));
        assertTrue(failures.isEmpty(), String.join("\n\n", failures));
    }

    /** The update batch: update.yaml applied, the Service sticky and its slice deleted. */
    private static void update(KubernetesClient client) throws Exception {
        apply(client, "update.yaml");
        client.services().inNamespace("default").withName("sticky").delete();
        client.discovery().v1().endpointSlices().inNamespace("default").withName("sticky-1").delete();
    }

    private static void compare(String state, Run upstream, Run ours, AllowList allowed, Set<String> used, List<String> failures) {
        System.out.printf("differential, %s: kube-proxy took %d ms, kube-ferry %d ms%n", state,
                upstream.synced().toMillis(), ours.synced().toMillis());
        List<SavedRuleset.Difference> differences = SavedRuleset.diff("kube-proxy", upstream.rules(), "kube-ferry", ours.rules());
        List<String> unexpected = new ArrayList<>();
        Map<String, List<String>> byReason = new LinkedHashMap<>();
        for (SavedRuleset.Difference d : differences) {
            allowed.allowing(d).ifPresentOrElse(e -> byReason.computeIfAbsent(e.reason(), r -> new ArrayList<>()).add(d.toString()),
                    () -> unexpected.add(d.toString()));
        }
        System.out.printf("differential, %s: %d rule lines differ, %d allow-listed (normalised: counters and comment lines dropped,"
                + " chains sorted, Services in upstream's map-ordered iptables chains %s by name, nft set and map elements sorted)%n",
                state, differences.size(), differences.size() - unexpected.size(), SavedRuleset.DISPATCH_CHAINS.stream().sorted().toList());
        used.addAll(byReason.keySet());
        byReason.forEach((reason, lines) -> System.out.println("  allowed (" + reason + "):\n    " + String.join("\n    ", lines)));
        if (!unexpected.isEmpty()) {
            failures.add(state + ": " + unexpected.size() + " difference(s) not in allow-list.txt:\n  " + String.join("\n  ", unexpected)
                    + "\nfull diff (kube-proxy = upstream, kube-ferry = ours):\n  "
                    + String.join("\n  ", differences.stream().map(Object::toString).toList())
                    + "\nkube-proxy's normalised ruleset:\n" + upstream.rules().text());
        }

        List<String> disagreements = new ArrayList<>();
        for (Probe probe : PROBES) {
            Set<String> theirs = upstream.answers().get(probe.name());
            Set<String> mine = ours.answers().get(probe.name());
            System.out.printf("  probe %-50s kube-proxy %-16s kube-ferry %s%n", probe.name(), theirs, mine);
            if (!theirs.equals(mine)) {
                disagreements.add(probe.name() + ": kube-proxy " + theirs + ", kube-ferry " + mine);
            }
        }
        if (!disagreements.isEmpty()) {
            failures.add(state + ": the agents' traffic disagrees:\n  " + String.join("\n  ", disagreements));
        }
    }

    /** One agent on the current objects: started, synced, its rules once stable, the probes; then stopped and reset. */
    private static Run run(Flavour flavour, AgentProcess.Kind kind) throws Exception {
        AgentConfig config = BED.config(BACKEND, flavour.mode, "");
        Run run;
        try (AgentProcess agent = BED.start(kind, config)) {
            run = capture(flavour, agent, agent.awaitSynced(Duration.ofSeconds(60)));
        }
        reset(kind, config);
        return run;
    }

    /**
     * The agent started on the current objects (first Run), then the update batch applied while it runs, and its
     * state once it has programmed every change (second Run, with the time from the first API write until then).
     */
    private static Run[] runThroughUpdate(Flavour flavour, AgentProcess.Kind kind) throws Exception {
        AgentConfig config = BED.config(BACKEND, flavour.mode, "");
        Run before;
        Run after;
        try (AgentProcess agent = BED.start(kind, config)) {
            before = capture(flavour, agent, agent.awaitSynced(Duration.ofSeconds(60)));
            Instant writes = Instant.now();
            long start = System.nanoTime();
            update(BED.client());
            agent.awaitSyncedSince(writes, Duration.ofSeconds(60));
            after = capture(flavour, agent, Duration.ofNanos(System.nanoTime() - start));
        }
        reset(kind, config);
        return new Run[] {before, after};
    }

    private static Run capture(Flavour flavour, AgentProcess agent, Duration synced) throws Exception {
        SavedRuleset rules = stableRules(flavour);
        // Both agents in the same mode and flavour: the others hold nothing of theirs.
        List<String> other = flavour.otherModes();
        assertTrue(other.isEmpty(), agent.kind().label() + " wrote rules of another mode or flavour too:\n" + String.join("\n", other));
        Map<String, Set<String>> answers = new LinkedHashMap<>();
        for (Probe probe : PROBES) {
            answers.put(probe.name(), probe(probe));
        }
        return new Run(rules, answers, synced);
    }

    private static void reset(AgentProcess.Kind kind, AgentConfig config) throws Exception {
        PeerBed.Reset reset = BED.reset(kind, config);
        List<String> nft = reset.leftAfterCleanup().stream().filter(l -> l.startsWith("nft: ")).toList();
        assertTrue(nft.isEmpty(), kind.label() + "'s own cleanup left nftables tables: " + nft);
        if (!reset.leftAfterCleanup().isEmpty()) {
            System.out.println("differential: " + kind.label() + "'s own cleanup left (scrubbed by the bed): " + reset.leftAfterCleanup());
        }
    }

    /** The ruleset once two reads 300 ms apart agree (a first sync may be followed by a second, e.g. for the Node). */
    private static SavedRuleset stableRules(Flavour flavour) throws Exception {
        SavedRuleset last = flavour.parse(flavour.save());
        for (int i = 0; i < 30; i++) {
            Thread.sleep(300);
            SavedRuleset now = flavour.parse(flavour.save());
            if (now.equals(last)) {
                return now;
            }
            last = now;
        }
        throw new IllegalStateException("the ruleset kept changing for 9 s");
    }

    /**
     * The kinds of answer a probe got. A "No route to host" is a TIMEOUT in kind: a packet neither agent DNATed
     * nor rejected is routed on-link to an address no one has, and once ARP has failed the node answers the next
     * attempts with host-unreachable instead of silence.
     */
    private static Set<String> probe(Probe probe) throws Exception {
        List<String> pods = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (int i = 0; i < probe.attempts(); i++) {
            String answer = switch (probe.protocol()) {
                case "udp" -> BED.netns().client().udp(probe.host(), probe.port(), 40053);
                case "http" -> healthCheck(probe.host(), probe.port());
                case "node-tcp" -> fromNode(probe.host(), probe.port());
                default -> BED.netns().client().tcp(probe.host(), probe.port());
            };
            if (!PODS.contains(answer)) {
                seen.add(answer.startsWith("ERROR NoRouteToHostException") ? "TIMEOUT" : answer);
                break;
            }
            pods.add(answer);
        }
        if (!pods.isEmpty()) {
            seen.add(switch (probe.compare()) {
                case EXACT -> String.join(",", new TreeSet<>(pods));
                case ANY_POD -> "a pod";
                case SAME_POD -> new TreeSet<>(pods).size() == 1 ? "one pod every time" : "different pods";
            });
        }
        return seen;
    }

    /** One TCP connection from the node namespace (bash's /dev/tcp): the first line the server sends, REFUSED or TIMEOUT. */
    private static String fromNode(String host, int port) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", BED.nodeNs(), "timeout", "3", "bash", "-c",
                "exec 3<>/dev/tcp/" + host + "/" + port + " && head -n 1 <&3").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "ERROR bash did not end";
        }
        if (p.exitValue() == 124) {
            return "TIMEOUT";
        }
        return out.contains("Connection refused") ? "REFUSED" : out.contains("No route to host") ? "TIMEOUT" : out;
    }

    /** A Service health check as a load balancer sees it: the status code and the local endpoint count upstream's JSON carries. */
    private static String healthCheck(String host, int port) throws Exception {
        String out;
        try {
            out = BED.netns().exec(BED.netns().clientNs(), "curl", "-s", "-m", "2", "-w", "\nHTTP %{http_code}",
                    "http://" + host + ":" + port + "/");
        } catch (IllegalStateException e) {
            return "no HTTP answer (" + e.getMessage().replaceAll("(?s).*exited (\\d+).*", "curl exit $1") + ")";
        }
        Matcher local = Pattern.compile("\"localEndpoints\":\\s*(\\d+)").matcher(out);
        return out.substring(out.lastIndexOf("HTTP ")).strip()
                + (local.find() ? " localEndpoints=" + local.group(1) : " (no localEndpoints)");
    }

    /** Applies every object of a resource file (server-side apply), then the status of Services that carry one. */
    private static void apply(KubernetesClient client, String file) throws Exception {
        List<HasMetadata> items;
        try (InputStream in = UpstreamDifferentialTest.class.getResourceAsStream(DIR + file)) {
            items = client.load(in).items();
        }
        for (HasMetadata item : items) {
            client.resource(item).fieldManager("upstream-differential").forceConflicts().serverSideApply();
            if (item instanceof Service service && service.getStatus() != null && service.getStatus().getLoadBalancer() != null) {
                client.services().inNamespace(service.getMetadata().getNamespace()).withName(service.getMetadata().getName())
                        .editStatus(s -> {
                            s.setStatus(service.getStatus());
                            return s;
                        });
            }
        }
    }
}
