package io.kubeferry.iptables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.state.ObjectFiles;
import io.kubeferry.proxy.state.StaticState;
import io.kubeferry.proxy.testing.Cli;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI's render prints exactly what the agent applies, and bad usage exits 2 naming the problem. */
class RenderCommandTest {

    private static final Path EXAMPLE = Path.of("../examples/cluster.yaml");

    @Test
    void renderPrintsWhatTheAgentAppliesOnAFreshNode() throws Exception {
        Cli.Run run = Cli.run("render", "--mode", "iptables", "--hostname-override", "node-a", "-f", EXAMPLE.toString());
        assertEquals(0, run.code(), run.err());

        FakeNetfilter kernel = new FakeNetfilter();
        kernel.setAddresses(List.of("127.0.0.1/8", "198.19.250.1/24"));
        IptablesDataplane dataplane = new IptablesDataplane(new DataplaneContext(
                ProxyConfig.defaults().withHostnameOverride("node-a"), kernel, new SimpleMeterRegistry()));
        dataplane.sync(SyncRequest.full(StaticState.of(ObjectFiles.read(EXAMPLE), "node-a", "")));
        String header = header(run.out());
        assertEquals(kernel.commands("iptables-nft-restore").get(0).stdinText(), run.out().substring(header.length()),
                "after the header comes exactly what the agent restores");
        assertTrue(header.contains("iptables-restore --noflush --counters") && header.contains("flush")
                && header.contains("only when it is missing") && header.contains("duplicates"), header);
        assertEquals("", run.err(), "the example has nothing invalid (ExternalName, headless, another proxy's: not errors)");
        assertTrue(run.out().contains("\"shop/pending has no endpoints\""));
        assertTrue(!run.out().contains("shop/mesh") && !run.out().contains("shop/db"), "ignored Services are absent");
    }

    @Test
    void usageErrorsExitTwoAndNameTheProblem() {
        Cli.Run noInput = Cli.run("render", "--hostname-override", "node-a");
        assertEquals(2, noInput.code());
        assertTrue(noInput.err().contains("render needs -f"), noInput.err());
        Cli.Run badMode = Cli.run("render", "--mode", "userspace", "-f", EXAMPLE.toString());
        assertEquals(2, badMode.code());
        assertTrue(badMode.err().contains("mode: must be"), badMode.err());
        Cli.Run badCidr = Cli.run("render", "--cluster-cidr", "198.18.0.0/99", "-f", EXAMPLE.toString());
        assertEquals(2, badCidr.code());
        assertTrue(badCidr.err().contains("clusterCIDR"), badCidr.err());
        Cli.Run missing = Cli.run("render", "-f", "/nonexistent/kube-ferry.yaml");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no such file"), missing.err());
    }

    /** The leading comment lines. */
    private static String header(String out) {
        StringBuilder header = new StringBuilder();
        for (String line : out.split("(?<=\n)")) {
            if (!line.startsWith("#")) {
                break;
            }
            header.append(line);
        }
        assertTrue(header.length() > 0, "render starts with comment lines");
        return header.toString();
    }

    @Test
    void theSameObjectsRenderTheSameBytesWhateverTheirFilesOrOrder(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String example = java.nio.file.Files.readString(EXAMPLE);
        List<String> documents = java.util.Arrays.stream(example.split("\n---\n")).toList();
        assertTrue(documents.size() > 10, "the example has many documents");
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve("dir"));
        for (int i = 0; i < documents.size(); i++) {
            // One document per file, the files sorting in the reverse of the example's order.
            java.nio.file.Files.writeString(dir.resolve(String.format("%03d.yaml", documents.size() - i)), documents.get(i));
        }
        List<String> shuffledDocs = new java.util.ArrayList<>(documents);
        java.util.Collections.shuffle(shuffledDocs, new java.util.Random(42));
        String shuffledText = String.join("\n---\n", shuffledDocs);
        Path shuffled = java.nio.file.Files.writeString(tmp.resolve("shuffled.yaml"), shuffledText);

        Cli.Run file = Cli.run("render", "--hostname-override", "node-a", "-f", EXAMPLE.toString());
        Cli.Run directory = Cli.run("render", "--hostname-override", "node-a", "-f", dir.toString());
        Cli.Run reordered = Cli.run("render", "--hostname-override", "node-a", "-f", shuffled.toString());
        Cli.Run stdin = Cli.runWithStdin(shuffledText, "render", "--hostname-override", "node-a", "-f", "-");
        Cli.Run twice = Cli.run("render", "--hostname-override", "node-a", "-f", EXAMPLE.toString(), "-f", dir.toString());
        for (Cli.Run run : List.of(file, directory, reordered, stdin, twice)) {
            assertEquals(0, run.code(), run.err());
            assertEquals(file.out(), run.out(), "byte-identical output");
        }
        assertTrue(file.out().contains("shop/web:http"));
    }

    @Test
    void aBrokenFileIsNamedWithLineAndColumnAndTheOthersStillRender(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve("objects"));
        java.nio.file.Files.copy(EXAMPLE, dir.resolve("a-cluster.yaml"));
        java.nio.file.Files.writeString(dir.resolve("b-broken.yaml"), "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n    oops: 1\n");
        java.nio.file.Files.writeString(dir.resolve("c-mixed.yaml"), """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: shop-frontend, namespace: shop}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: bad, namespace: shop}
                spec:
                  clusterIP: 999.1.2.3
                  ports: [{name: http, port: 80}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: extra, namespace: shop}
                spec:
                  clusterIP: 198.19.0.99
                  ports: [{name: "a\\"b", port: 80}, {name: ok, port: 81}]
                """);
        Cli.Run run = Cli.run("render", "--hostname-override", "node-a", "-f", dir.toString());
        assertEquals(1, run.code(), "something was skipped or unreadable: scripts must notice");
        assertTrue(run.err().contains("b-broken.yaml: not valid YAML at line 5, column 9"), run.err());
        assertTrue(
                run.err().contains("Deployment shop/shop-frontend skipped: kind Deployment (apiVersion apps/v1) is not read by kube-ferry"),
                run.err());
        assertTrue(run.err().contains("(unknown-kind)") && run.err().contains("(invalid-cluster-ip)")
                && run.err().contains("(invalid-port-name)"), run.err());
        assertTrue(run.err().contains("3 object(s) or part(s) skipped and 1 file(s) unreadable"), run.err());
        assertTrue(run.out().contains("shop/web:http") && run.out().contains("shop/extra:ok"), "the good objects are rendered");
        assertTrue(!run.out().contains("999.1.2.3") && !run.out().contains("a\"b"), "the bad ones are not");

        Cli.Run stdin = Cli.runWithStdin("kind: [", "render", "--hostname-override", "node-a", "-f", "-");
        assertEquals(1, stdin.code());
        assertTrue(stdin.err().contains("<stdin>: not valid YAML at line 1, column 8"), stdin.err());
    }

    @Test
    void theRenderedTextIsAcceptedByTheRealTools() throws Exception {
        String why = io.kubeferry.proxy.testing.RealRestore.unavailable();
        if (why != null) {
            System.out.println("RenderCommandTest: real iptables-restore --test skipped: " + why);
            return;
        }
        Cli.Run run = Cli.run("render", "--hostname-override", "node-a", "-f", EXAMPLE.toString());
        try (var restore = io.kubeferry.proxy.testing.RealRestore.open("kf-render")) {
            for (String tool : io.kubeferry.proxy.testing.RealRestore.TOOLS) {
                assertEquals(null, restore.rejection(tool, run.out()), "header and all");
            }
        }
    }
}
