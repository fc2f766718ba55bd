package io.kubeferry.ipvs;

import io.kubeferry.proxy.testing.Cli;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `kube-ferry --mode ipvs render` renders IPVS (it used to print iptables: options before render were dropped). */
class RenderPlacementTest {

    private static final String EXAMPLE = "../examples/cluster.yaml";

    private static String render(String... args) {
        Cli.Run run = Cli.run(args);
        assertEquals(0, run.code(), run.err());
        return run.out();
    }

    @Test
    void theModeMeansTheSameBeforeAndAfterRender() {
        String after = render("render", "--mode", "ipvs", "--hostname-override", "node-a", "-f", EXAMPLE);
        String before = render("--mode", "ipvs", "--hostname-override", "node-a", "render", "-f", EXAMPLE);
        String split = render("--mode", "ipvs", "render", "--hostname-override", "node-a", "-f", EXAMPLE);
        assertEquals(after, before);
        assertEquals(after, split);
        String iptables = render("render", "--mode", "iptables", "--hostname-override", "node-a", "-f", EXAMPLE);
        assertNotEquals(iptables, before);
        assertTrue(before.contains("# ipvsadm -R"), before.substring(0, Math.min(400, before.length())));
    }
}
