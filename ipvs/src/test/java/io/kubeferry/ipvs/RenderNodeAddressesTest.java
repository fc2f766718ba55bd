package io.kubeferry.ipvs;

import io.kubeferry.proxy.testing.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** render --mode ipvs opens NodePorts on the node's addresses: --node-ip's, else the Node object's; with none it says so. */
class RenderNodeAddressesTest {

    static final String NODE_PORT = """
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: shop}
            spec:
              type: NodePort
              clusterIP: 198.19.0.20
              ports: [{name: https, port: 443, targetPort: 8443, nodePort: 30443, protocol: TCP}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: api-x1
              namespace: shop
              labels: {kubernetes.io/service-name: api}
            addressType: IPv4
            ports: [{name: https, port: 8443, protocol: TCP}]
            endpoints:
              - addresses: [198.18.0.21]
                nodeName: node-a
            """;

    static final String NODE = """
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: node-a}
            status:
              addresses:
                - {type: Hostname, address: node-a}
                - {type: ExternalIP, address: 198.18.9.9}
                - {type: InternalIP, address: 198.18.1.1}
                - {type: InternalIP, address: "fd00::1"}
            """;

    private static Path write(Path dir, String yaml) throws IOException {
        Path file = dir.resolve("objects.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void withoutAddressesNodePortsAreOmittedAndStderrSaysSo(@TempDir Path dir) throws IOException {
        Cli.Run run = Cli.run("render", "--mode", "ipvs", "--hostname-override", "node-a", "-f", write(dir, NODE_PORT).toString());
        assertEquals(0, run.code(), run.err());
        assertFalse(run.out().contains(":30443"), run.out());
        assertTrue(run.err().contains("no node addresses: NodePort virtual servers omitted; pass --node-ip"), run.err());
    }

    @Test
    void nodeIpFlagsGiveTheAddresses(@TempDir Path dir) throws IOException {
        Cli.Run run = Cli.run("render", "--mode", "ipvs", "--hostname-override", "node-a", "-f", write(dir, NODE_PORT).toString(),
                "--node-ip", "198.18.1.1", "--node-ip", "198.18.2.1");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("-A -t 198.18.1.1:30443 -s rr\n") && run.out().contains("-A -t 198.18.2.1:30443 -s rr\n"), run.out());
        assertTrue(run.out().contains("-a -t 198.18.1.1:30443 -r 198.18.0.21:8443"), run.out());
        assertFalse(run.err().contains("no node addresses"), run.err());
    }

    @Test
    void theNodeObjectsAddressesAreUsedAndNodePortAddressesNarrowThem(@TempDir Path dir) throws IOException {
        Path file = write(dir, NODE_PORT + NODE);
        Cli.Run run = Cli.run("render", "--mode", "ipvs", "--hostname-override", "node-a", "-f", file.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("-A -t 198.18.1.1:30443 -s rr\n") && run.out().contains("-A -t 198.18.9.9:30443 -s rr\n"), run.out());
        assertFalse(run.out().contains("fd00::1"), "IPv4 only");

        Cli.Run narrowed = Cli.run("render", "--mode", "ipvs", "--hostname-override", "node-a", "-f", file.toString(),
                "--nodeport-addresses", "198.18.9.0/24");
        assertTrue(narrowed.out().contains("-A -t 198.18.9.9:30443 -s rr\n"), narrowed.out());
        assertFalse(narrowed.out().contains("198.18.1.1:30443"), narrowed.out());
    }

    @Test
    void aBadNodeIpIsAUsageError(@TempDir Path dir) throws IOException {
        Cli.Run run = Cli.run("render", "--mode", "ipvs", "-f", write(dir, NODE_PORT).toString(), "--node-ip", "999.1.2.3");
        assertEquals(2, run.code());
        assertTrue(run.err().contains("--node-ip: not an IPv4 address: \"999.1.2.3\""), run.err());
    }

    @Test
    void anUnknownSchedulerFailsBeforeAnythingRenders(@TempDir Path dir) throws IOException {
        Cli.Run run = Cli.run("render", "--mode", "ipvs", "--ipvs-scheduler", "nonsense", "-f", write(dir, NODE_PORT).toString());
        assertEquals(2, run.code());
        assertEquals("", run.out());
        assertTrue(run.err().contains("ipvs.scheduler: unknown scheduler \"nonsense\"; known: rr, wrr"), run.err());
    }
}
