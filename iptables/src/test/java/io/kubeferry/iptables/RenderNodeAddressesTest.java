package io.kubeferry.iptables;

import io.kubeferry.proxy.testing.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** render with nodePortAddresses CIDRs opens NodePorts on the node's matching addresses (--node-ip or the Node object). */
class RenderNodeAddressesTest {

    private static final String OBJECTS = """
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: shop}
            spec:
              type: NodePort
              clusterIP: 198.19.0.20
              ports: [{name: https, port: 443, targetPort: 8443, nodePort: 30443, protocol: TCP}]
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: node-a}
            status:
              addresses: [{type: InternalIP, address: 198.18.1.1}, {type: ExternalIP, address: 198.18.9.9}]
            """;

    @Test
    void nodePortCidrsPickTheNodesMatchingAddresses(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("objects.yaml");
        Files.writeString(file, OBJECTS);
        Cli.Run run = Cli.run("render", "--mode", "iptables", "--hostname-override", "node-a", "-f", file.toString(),
                "--nodeport-addresses", "198.18.9.0/24");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("-d 198.18.9.9 -j KUBE-NODEPORTS"), run.out());
        assertFalse(run.out().contains("-d 198.18.1.1 -j KUBE-NODEPORTS"), run.out());

        Cli.Run flag = Cli.run("render", "--mode", "iptables", "--hostname-override", "node-a", "-f", file.toString(),
                "--nodeport-addresses", "198.18.5.0/24", "--node-ip", "198.18.5.5");
        assertTrue(flag.out().contains("-d 198.18.5.5 -j KUBE-NODEPORTS"), flag.out());

        Cli.Run none = Cli.run("render", "--mode", "iptables", "--hostname-override", "node-a", "-f", file.toString(),
                "--nodeport-addresses", "198.18.7.0/24");
        assertTrue(none.out().lines().noneMatch(l -> l.startsWith("-A KUBE-SERVICES") && l.endsWith("-j KUBE-NODEPORTS")), none.out());
        assertTrue(none.err().contains("NodePort rules omitted; pass --node-ip"), none.err());
    }
}
