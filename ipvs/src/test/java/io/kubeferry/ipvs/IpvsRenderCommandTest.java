package io.kubeferry.ipvs;

import io.kubeferry.proxy.testing.Cli;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code render --mode ipvs}: its header says how the sections are applied, in the sections' own comment form. */
class IpvsRenderCommandTest {

    @Test
    void theHeaderIsCommentLinesSayingHowEachSectionIsApplied() {
        Cli.Run run = Cli.run("render", "--mode", "ipvs", "--hostname-override", "node-a", "-f", "../examples/cluster.yaml");
        assertEquals(0, run.code());
        String text = run.out();
        String[] lines = text.split("\n");
        int headerLines = 0;
        while (lines[headerLines].startsWith("#") && !lines[headerLines].equals("# ipset restore -exist")) {
            headerLines++;
        }
        assertTrue(headerLines >= 3, text);
        assertEquals("# ipset restore -exist", lines[headerLines], "the first section follows the header");
        String header = String.join("\n", java.util.Arrays.copyOf(lines, headerLines));
        assertTrue(header.contains("iptables-restore --noflush --counters") && header.contains("duplicates")
                && header.contains("input of the command its heading names"), header);
    }

    @Test
    void theHeaderNamesEachPortsKernelSchedulerAndWhy(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path objects = java.nio.file.Files.writeString(tmp.resolve("objects.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: shop, annotations: {kube-ferry.io/scheduler: sh, kube-ferry.io/scheduler-flags: sh-port}}
                spec: {clusterIP: 198.19.0.10, ports: [{name: http, port: 80, protocol: TCP}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: db, namespace: shop, annotations: {kube-ferry.io/scheduler: random}}
                spec: {clusterIP: 198.19.0.11, ports: [{port: 5432, protocol: TCP}]}
                """);
        Cli.Run run = Cli.run("render", "--mode", "ipvs", "--hostname-override", "node-a", "-f", objects.toString());
        assertEquals(0, run.code(), run.err());
        assertEquals(java.util.List.of(
                "#   shop/db tcp: rr (fallback: scheduler \"random\" is not available on this node (no IPVS scheduler picks at random); using \"rr\")",
                "#   shop/web:http tcp: sh sh-port (annotation)"), run.out().lines().filter(l -> l.startsWith("#   ")).toList(),
                "no IPVS scheduler is random: IPVS mode falls back (maglev and source-hash it has: IpvsDataplaneTest)");
    }
}
