package io.kubeferry.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shipped jar's {@code cleanup} on a real kernel: it removes kube-ferry's rules (both iptables flavours), ipsets
 * and nftables mode's {@code table ip kube-proxy} from the namespace it is given and from nowhere else, prints counts that match what was there, and
 * exits non-zero, having changed nothing, when it cannot act (no such namespace, not root).
 * <p>
 * Every cleanup runs inside a scratch namespace of this test ({@code ip netns exec SCRATCH java -jar ...}), so a
 * cleanup that ignored {@code --netns} would empty the scratch namespace, never the root one.
 */
class CleanupNetnsTest {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    private static final Path JAR = Path.of("..", "dist", "target", "kube-ferry.jar").toAbsolutePath().normalize();
    private static final Path EXAMPLE = Path.of("..", "examples", "cluster.yaml").toAbsolutePath().normalize();
    private static final Pattern COUNT = Pattern
            .compile("(\\d+) (chains?|rules?|ipsets?|tables?|virtual servers?|addresse?s?|interfaces?)");

    private static String ns;
    private static String other;
    private static String scratch;
    private static String program;
    private static String nftProgram;

    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void namespaces() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "the shipped jar is built first (mvn -pl integration-tests -am verify): " + JAR);
        ns = BED.bareNamespace("cl-ns");
        other = BED.bareNamespace("cl-other");
        scratch = BED.bareNamespace("cl-scratch");
        Run render = jar(List.of(), "render", "--mode", "iptables", "--hostname-override", "node-a", "-f", EXAMPLE.toString());
        assertEquals(0, render.exit(), render.err());
        program = render.out();
        assertTrue(program.contains(":KUBE-SVC-"), program);
        Run nft = jar(List.of(), "render", "--mode", "nftables", "--hostname-override", "node-a", "-f", EXAMPLE.toString());
        assertEquals(0, nft.exit(), nft.err());
        nftProgram = nft.out();
        assertTrue(nftProgram.contains("add table ip kube-proxy"), nftProgram);
    }

    /**
     * NS and OTHER get the same kube-ferry program (nft and legacy), ipset and nftables table, plus an operator's own
     * rule, set and nftables table.
     */
    @BeforeEach
    void program() throws Exception {
        for (String target : List.of(ns, other)) {
            for (String restore : List.of("iptables-nft-restore", "iptables-legacy-restore")) {
                // A second run on the same namespace (another test method) starts from a clean one.
                sh(target, restore + " --noflush", program);
            }
            sh(target, "iptables-nft -N OPERATOR 2>/dev/null || true; iptables-nft -C INPUT -s 198.18.5.0/24 -j OPERATOR 2>/dev/null"
                    + " || iptables-nft -A INPUT -s 198.18.5.0/24 -j OPERATOR", "");
            sh(target, "ipset -exist create KUBE-CLUSTER-IP hash:ip,port; ipset -exist add KUBE-CLUSTER-IP 198.19.0.10,tcp:80;"
                    + " ipset -exist create operator-set hash:ip", "");
            // The rendered transaction is a full sync: applied again it refills the same table.
            sh(target, "nft -f -", nftProgram);
            sh(target, "nft add table ip operator", "");
        }
    }

    @Test
    void cleanupAfterTheSubcommandCleansOnlyThatNamespaceAndCountsWhatItRemoved() throws Exception {
        assertCleansOnly(List.of("cleanup", "--netns", ns, "--hostname-override", "node-a"));
    }

    /**
     * kube-proxy's placement: the option before the subcommand. NEEDS THE CLI SLICE (i9-cli, issue 9 item 2):
     * before it is merged, options before a subcommand are ignored, so this cleans the scratch namespace and
     * fails on "NS still has kube-ferry's rules".
     */
    @Test
    void optionBeforeTheSubcommandMeansTheSame() throws Exception {
        assertCleansOnly(List.of("--netns", ns, "cleanup", "--hostname-override", "node-a"));
    }

    private void assertCleansOnly(List<String> args) throws Exception {
        Snapshot root = Snapshot.root();
        Snapshot otherBefore = Snapshot.of(other);
        Snapshot before = Snapshot.of(ns);
        assertTrue(
                before.kubeChains() > 0 && before.ipsets().contains("KUBE-CLUSTER-IP") && before.tables().contains("table ip kube-proxy"),
                before.toString());

        Run run = jar(List.of("ip", "netns", "exec", scratch), args.toArray(String[]::new));
        assertEquals(0, run.exit(), run.out() + run.err());

        Snapshot after = Snapshot.of(ns);
        // Except kubelet's KUBE-FIREWALL, which upstream kube-proxy also creates and never removes in cleanup.
        assertEquals(0, after.kubeChains() - after.kubeletChains(), "NS still has kube-ferry's rules:\n" + after.nft() + after.legacy());
        assertEquals(0, after.kubeRules() - after.kubeletRules(), after.nft() + after.legacy());
        assertTrue(after.nft().contains("-A INPUT -s 198.18.5.0/24 -j OPERATOR"), "the operator's own rule stays:\n" + after.nft());
        assertEquals(List.of("operator-set"), after.ipsets(), "only kube-ferry's ipsets go");
        assertEquals(List.of("table ip operator"), after.tables(), "only nftables mode's table goes");
        assertEquals(otherBefore, Snapshot.of(other), "OTHER is untouched");
        assertEquals(root, Snapshot.root(), "the root namespace is untouched");

        Map<String, Integer> printed = counts(run.out());
        int chains = before.kubeChains() - after.kubeChains();
        int rules = before.kubeRules() - after.kubeRules();
        assertEquals(chains, printed.getOrDefault("chain", 0), run.out());
        assertEquals(rules, printed.getOrDefault("rule", 0), run.out());
        assertEquals(1, printed.getOrDefault("ipset", 0), run.out());
        assertEquals(1, printed.getOrDefault("table", 0), run.out());
        assertEquals(Map.of("chain", chains, "rule", rules, "ipset", 1, "table", 1), printed,
                "nothing is claimed that was not there (no virtual servers, no kube-ipvs0 on this kernel): " + run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("iptables mode: removed ")), run.out());
        System.out.println("cleanup " + String.join(" ", args) + " printed:\n" + run.out().strip());

        Run again = jar(List.of("ip", "netns", "exec", scratch), args.toArray(String[]::new));
        assertEquals(0, again.exit(), again.err());
        // Every mode once per family (the scratch namespace runs IPv6 too), IPv4 first.
        assertEquals("""
                iptables mode: nothing to remove
                iptables mode (IPv6): nothing to remove
                ipvs mode: nothing to remove
                ipvs mode (IPv6): nothing to remove
                nftables mode: nothing to remove
                nftables mode (IPv6): nothing to remove
                """, again.out());
    }

    @Test
    void aNamespaceThatDoesNotExistIsNamedAndNothingChanges() throws Exception {
        Snapshot scratchBefore = Snapshot.of(scratch);
        Snapshot nsBefore = Snapshot.of(ns);
        String missing = "kf-cleanup-does-not-exist";
        Run run = jar(List.of("ip", "netns", "exec", scratch), "cleanup", "--netns", missing);
        assertNotEquals(0, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains("network namespace \"" + missing + "\" does not exist"), run.err());
        assertTrue(run.err().contains("nothing was removed"), run.err());
        assertFalse(run.out().contains("removed"), "no removal claimed: " + run.out());
        assertEquals(scratchBefore, Snapshot.of(scratch));
        assertEquals(nsBefore, Snapshot.of(ns));
    }

    @Test
    void aNonRootUserIsToldItNeedsRootAndNothingChanges() throws Exception {
        assumeTrue(NetnsTestBed.run(List.of("setpriv", "--version")).exit() == 0, "needs util-linux's setpriv");
        Snapshot before = Snapshot.of(ns);
        Run run = jar(List.of("ip", "netns", "exec", scratch, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
                "cleanup", "--netns", ns);
        assertNotEquals(0, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains("cleanup needs root (effective uid 0)") && run.err().contains("running as uid 65534"), run.err());
        assertFalse(run.out().contains("removed"), "no removal claimed: " + run.out());
        assertEquals(before, Snapshot.of(ns), "NS is unchanged");
    }

    /**
     * What a namespace holds, comparable: both flavours' rules without counters or timestamps, its ipsets, and its
     * nftables tables other than the ones iptables-nft keeps its rules in (those are in {@code nft} already).
     */
    record Snapshot(String nft, String legacy, List<String> ipsets, List<String> tables) {

        static Snapshot of(String namespace) throws Exception {
            return new Snapshot(normal(BED.exec(namespace, "iptables-nft-save")), normal(BED.exec(namespace, "iptables-legacy-save")),
                    BED.exec(namespace, "ipset", "list", "-n").lines().sorted().toList(),
                    tables(BED.exec(namespace, "nft", "list", "tables")));
        }

        /** Read only: nothing here changes the root namespace. */
        static Snapshot root() throws Exception {
            return new Snapshot(normal(ok(List.of("iptables-nft-save"))), normal(ok(List.of("iptables-legacy-save"))),
                    ok(List.of("ipset", "list", "-n")).lines().sorted().toList(), tables(ok(List.of("nft", "list", "tables"))));
        }

        private static List<String> tables(String listed) {
            return listed.lines().map(String::strip).filter(l -> l.startsWith("table ")).filter(l -> !IPTABLES_NFT_TABLES.contains(l))
                    .sorted().toList();
        }

        private static final java.util.Set<String> IPTABLES_NFT_TABLES = java.util.Set.of("table ip nat", "table ip filter",
                "table ip mangle", "table ip raw", "table ip security", "table ip6 nat", "table ip6 filter", "table ip6 mangle",
                "table ip6 raw", "table ip6 security");

        int kubeChains() {
            return (int) (nft + legacy).lines().filter(l -> l.startsWith(":KUBE-")).count();
        }

        int kubeletChains() {
            return (int) (nft + legacy).lines().filter(l -> l.startsWith(":KUBE-FIREWALL ")).count();
        }

        int kubeletRules() {
            return (int) (nft + legacy).lines().filter(l -> l.startsWith("-A ") && l.contains("KUBE-FIREWALL")).count();
        }

        /** Rules in kube-ferry's chains and the jumps into them. */
        int kubeRules() {
            return (int) (nft + legacy).lines().filter(l -> l.startsWith("-A ") && l.contains("KUBE-")).count();
        }

        private static String normal(String save) {
            StringBuilder out = new StringBuilder();
            save.lines().filter(l -> !l.startsWith("#")).map(l -> l.replaceAll("\\[\\d+:\\d+]", "[]"))
                    .forEach(l -> out.append(l).append('\n'));
            return out.toString();
        }

        private static String ok(List<String> argv) throws Exception {
            NetnsTestBed.Result r = NetnsTestBed.run(argv);
            if (r.exit() != 0) {
                throw new IllegalStateException(argv + " exited " + r.exit() + ": " + r.output());
            }
            return r.output();
        }
    }

    /** The counts on the summary lines, summed over the modes, by singular noun. */
    private static Map<String, Integer> counts(String out) {
        Map<String, Integer> sum = new TreeMap<>();
        for (String line : out.split("\n")) {
            Matcher m = COUNT.matcher(line);
            while (m.find()) {
                String noun = m.group(2).endsWith("addresses") ? "address" : m.group(2).replaceAll("s$", "");
                sum.merge(noun, Integer.parseInt(m.group(1)), Integer::sum);
            }
        }
        return sum;
    }

    private static void sh(String namespace, String script, String stdin) throws Exception {
        Run r = exec(List.of("ip", "netns", "exec", namespace, "sh", "-c", script), stdin);
        if (r.exit() != 0) {
            throw new IllegalStateException(script + " in " + namespace + " exited " + r.exit() + ": " + r.err());
        }
    }

    /** The shipped jar, run under {@code prefix} (e.g. ip netns exec SCRATCH). */
    static Run jar(List<String> prefix, String... args) throws Exception {
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx128m", "-XX:TieredStopAtLevel=1",
                "-jar", JAR.toString()));
        argv.addAll(List.of(args));
        return exec(argv, "");
    }

    private static Run exec(List<String> argv, String stdin) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(argv + " did not exit within 120 s");
        }
        return new Run(p.exitValue(), out.join(), err.join());
    }

    private static String read(java.io.InputStream stream) {
        try (stream) {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
