package io.kubeferry.iptables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.RealRestore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.localEndpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Defence in depth below validation: names that validation would have rejected are put straight into the
 * state, and the renderer must still write a program that iptables-restore accepts whole. Checked by the
 * fake's tokenizer always and by the real nft and legacy tools where root can make a network namespace.
 */
class HostileNamesTest {

    static final List<String> HOSTILE = List.of("", "\"", "a\"b", "web\n-A INPUT -j DROP", "x\r\ny", ";", "a; reboot", "é", "名前",
            "\u0000", "a b", "'", "\\", "\\\"", "#", "$(id)", "-j ACCEPT", "x".repeat(300), "COMMIT", "*filter", "\t", "\u007f", "\u2028");

    private static String hostile(Random random) {
        StringBuilder out = new StringBuilder();
        int parts = 1 + random.nextInt(3);
        for (int i = 0; i < parts; i++) {
            out.append(random.nextBoolean() ? HOSTILE.get(random.nextInt(HOSTILE.size())) : "n" + random.nextInt(100));
        }
        return out.toString();
    }

    /** One hostile Service port per feature that writes the name into a comment. */
    static ProxyState hostileState(long seed, int count) {
        Random random = new Random(seed);
        List<ResolvedService> services = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String clusterIP = "198.19." + (i / 250) + "." + (1 + i % 250);
            var builder = port(hostile(random), hostile(random), hostile(random), Protocol.values()[i % 3], clusterIP, 80);
            Endpoint[] endpoints = {endpoint("198.18.0." + (2 + i % 200), 8080), localEndpoint("198.18.1." + (2 + i % 200), 8080)};
            switch (i % 6) {
                case 0 -> endpoints = new Endpoint[0]; // "has no endpoints"
                case 1 -> builder.nodePort(30000 + i); // unquoted NodePort comment
                case 2 -> builder.loadBalancerIP("198.19.200." + (1 + i % 250)).sourceRange("198.18.0.0/16"); // firewall
                case 3 -> builder.nodePort(31000 + i).externalLocal(32000 + i); // local policy, health check
                case 4 -> builder.sticky(60); // per-endpoint comments
                default -> {
                    builder.externalIP("198.19.201." + (1 + i % 250)).internalLocal();
                    endpoints = new Endpoint[] {endpoint("198.18.0." + (2 + i % 200), 8080)}; // "no local endpoints"
                }
            }
            services.add(builder.resolve(endpoints));
        }
        return state(services.toArray(ResolvedService[]::new));
    }

    private static final Pattern COMMENT = Pattern.compile("--comment (\"[^\"]*\"|\\S+)");

    @Test
    void hostileNamesCannotBreakTheProgram() throws Exception {
        IptablesRenderer renderer = new IptablesRenderer(new ChainNames(1000));
        IptablesSettings settings = IptablesSettings.defaults().withNodeIP("198.18.0.1");
        List<String> programs = new ArrayList<>();
        for (long seed = 1; seed <= 3; seed++) {
            ProxyState state = hostileState(seed, 120);
            String program = renderer.full(state, settings, KernelState.NONE).text();
            programs.add(program);
            for (String line : program.split("\n")) {
                assertTrue(line.chars().allMatch(c -> c >= 0x20 && c <= 0x7e), "printable ASCII only: " + line);
                assertEquals(0, line.chars().filter(c -> c == '"').count() % 2, "quotes balanced: " + line);
                Matcher m = COMMENT.matcher(line);
                while (m.find()) {
                    assertTrue(m.group(1).length() - 2 <= 255, "comment within the kernel's limit: " + line);
                }
            }
            assertEquals(120, program.lines().filter(l -> l.startsWith("-A KUBE-SERVICES") || l.startsWith("-A KUBE-SERVICES ")).count()
                    - program.lines().filter(l -> l.startsWith("-A KUBE-SERVICES") && l.contains("KUBE-NODEPORTS")).count()
                    - program.lines()
                            .filter(l -> l.startsWith("-A KUBE-SERVICES") && (l.contains("external IP") || l.contains("loadbalancer IP")))
                            .count(),
                    "every Service port has its ClusterIP rule");

            FakeNetfilter kernel = new FakeNetfilter();
            kernel.setAddresses(List.of("127.0.0.1/8", "198.18.0.1/24"));
            new IptablesDataplane(
                    new DataplaneContext(ProxyConfig.defaults().withHostnameOverride("node-a"), kernel, new SimpleMeterRegistry()))
                    .sync(SyncRequest.full(state));
        }
        String why = RealRestore.unavailable();
        if (why != null) {
            System.out.println("HostileNamesTest: real iptables-restore --test skipped: " + why);
            return;
        }
        try (RealRestore restore = RealRestore.open("kf-hostile")) {
            for (String program : programs) {
                for (String tool : RealRestore.TOOLS) {
                    assertNull(restore.rejection(tool, program));
                }
            }
        }
    }

    @Test
    void commentTextIsBoundedAndInert() {
        assertEquals("a_b_c_d_e", IptablesRenderer.commentText("a\"b\nc d\\e"));
        assertEquals("_", IptablesRenderer.commentText(""));
        assertEquals(IptablesRenderer.COMMENT_NAME_MAX, IptablesRenderer.commentText("x".repeat(300)).length());
        String valid = "a".repeat(63) + "/" + "b".repeat(63) + ":" + "c".repeat(63);
        assertEquals(valid, IptablesRenderer.commentText(valid), "the longest valid name is kept whole");
        assertEquals("ns/web:http", IptablesRenderer.commentText("ns/web:http"));
    }
}
