package io.kubeferry.it.guest;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cleanup} on a real IPVS kernel: a node namespace programmed with what {@code render --mode ipvs} prints
 * (ipsets, kube-ipvs0's addresses, virtual and real servers, iptables rules) is emptied of all of it, a second
 * namespace with the same state is untouched, and the printed counts are what was there.
 */
class IpvsCleanupGuestTest {

    @RegisterExtension
    static final IpvsGuest GUEST = new IpvsGuest();

    private static final Path JAR = Path.of("..", "dist", "target", "kube-ferry.jar").toAbsolutePath().normalize();
    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    private static final Pattern COUNT = Pattern.compile("(\\d+) (chains?|rules?|ipsets?|virtual servers?|address(?:es)?|interfaces?)");
    /** The render's sections, by the comment line that starts each, and the guest command that applies it. */
    private static final Map<String, String> SECTIONS = new LinkedHashMap<>();

    static {
        SECTIONS.put("# ipset restore -exist", "ipset restore -exist < /run/kf-share/cl-ipset");
        SECTIONS.put("# ip -batch -", "ip -batch /run/kf-share/cl-ip");
        SECTIONS.put("# ipvsadm -R", "ipvsadm -R < /run/kf-share/cl-ipvsadm");
        SECTIONS.put("# iptables-restore", "iptables-restore --noflush < /run/kf-share/cl-iptables");
    }

    @BeforeAll
    static void program() throws Exception {
        String rendered = render();
        Map<String, StringBuilder> parts = new LinkedHashMap<>();
        StringBuilder current = null;
        for (String line : rendered.split("\n")) {
            String header = SECTIONS.keySet().stream().filter(line::startsWith).findFirst().orElse(null);
            if (header != null) {
                current = parts.computeIfAbsent(header, h -> new StringBuilder());
            } else if (current != null) {
                current.append(line).append('\n');
            }
        }
        assertEquals(SECTIONS.keySet(), parts.keySet(), rendered);
        List<String> files = List.of("cl-ipset", "cl-ip", "cl-ipvsadm", "cl-iptables");
        int i = 0;
        for (StringBuilder part : parts.values()) {
            Files.writeString(GUEST.share().resolve(files.get(i++)), part.toString());
        }
        StringBuilder script = new StringBuilder(IpvsGuest.bed(1)).append("""
                modprobe -a ip_vs ip_vs_rr
                ip netns add other; ip netns add scratch
                ip -n other link set lo up
                ip -n other link add ext0 type dummy
                ip -n other addr add 198.18.1.1/24 dev ext0; ip -n other addr add 198.18.0.1/24 dev ext0
                ip -n other link set ext0 up
                """);
        for (String ns : List.of("node", "other")) {
            script.append("ip -n ").append(ns).append(" link add kube-ipvs0 type dummy\n");
            for (String apply : SECTIONS.values()) {
                script.append("ip netns exec ").append(ns).append(" sh -c '").append(apply).append("'\n");
            }
        }
        IpvsGuest.Result r = GUEST.run(script.toString());
        assertTrue(r.ok(), "exit " + r.exit() + "\n" + r.err());
    }

    @Test
    void cleanupEmptiesTheNodeNamespaceOnlyAndCountsWhatWasThere() throws Exception {
        State before = State.of("node");
        State other = State.of("other");
        assertTrue(before.virtualServers() > 0 && before.ipsets() > 0 && before.addresses() > 0 && before.chains() > 0, before.toString());

        IpvsGuest.Result run = GUEST.run("ip netns exec scratch java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:UseAVX=0 -jar "
                + JAR + " cleanup --netns node --hostname-override node-a", java.time.Duration.ofSeconds(300));
        assertEquals(0, run.exit(), run.out() + run.err());
        System.out.println("cleanup on a real IPVS kernel printed:\n" + run.out().strip());

        State after = State.of("node");
        assertEquals(new State(0, 0, 0, 0, 0, 0, after.raw()), after, "node namespace emptied:\n" + after.raw());
        // (IPVS mode writes no kubelet KUBE-FIREWALL chain, so nothing of KUBE- may stay.)
        assertEquals(other, State.of("other"), "the other namespace is untouched");

        Map<String, Integer> printed = new TreeMap<>();
        Matcher m = COUNT.matcher(run.out());
        while (m.find()) {
            String noun = m.group(2).startsWith("address") ? "address" : m.group(2).replaceAll("s$", "");
            printed.merge(noun, Integer.parseInt(m.group(1)), Integer::sum);
        }
        assertEquals(Map.of("chain", before.chains(), "rule", before.rules(), "virtual server", before.virtualServers(),
                "ipset", before.ipsets(), "address", before.addresses(), "interface", 1), printed, run.out());
    }

    /** Counts of kube-ferry's kernel objects in one guest namespace, and the raw listings they come from. */
    record State(int chains, int rules, int virtualServers, int ipsets, int addresses, int interfaces, String raw) {

        static State of(String ns) throws Exception {
            IpvsGuest.Result r = GUEST.run("""
                    x="ip netns exec %1$s"
                    echo "== chains"; $x iptables-save | grep -c '^:KUBE-' || true
                    echo "== rules"; $x iptables-save | grep '^-A ' | grep -c 'KUBE-' || true
                    echo "== vs"; $x ipvsadm -Sn | grep -c '^-A' || true
                    echo "== sets"; $x ipset list -n | grep -c '^KUBE-' || true
                    echo "== addresses"; ip -n %1$s -o -4 addr show dev kube-ipvs0 2>/dev/null | wc -l
                    echo "== interfaces"; ip -n %1$s -o link show kube-ipvs0 2>/dev/null | wc -l
                    echo "== raw"; $x iptables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'; $x ipvsadm -Sn; $x ipset list -n
                    """.formatted(ns));
            assertTrue(r.ok(), r.err());
            List<Integer> n = new ArrayList<>();
            String[] lines = r.out().split("\n");
            StringBuilder raw = new StringBuilder();
            boolean inRaw = false;
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].equals("== raw")) {
                    inRaw = true;
                } else if (inRaw) {
                    raw.append(lines[i]).append('\n');
                } else if (lines[i].startsWith("== ")) {
                    n.add(Integer.parseInt(lines[i + 1].strip()));
                }
            }
            return new State(n.get(0), n.get(1), n.get(2), n.get(3), n.get(4), n.get(5), raw.toString());
        }
    }

    private static String render() throws Exception {
        List<String> argv = List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx128m", "-XX:TieredStopAtLevel=1",
                "-jar", JAR.toString(), "render", "--mode", "ipvs", "--hostname-override", "node-a", "--node-ip", "198.18.1.1",
                "-f", EXAMPLES.toString());
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("render failed: " + out);
        }
        return out;
    }
}
