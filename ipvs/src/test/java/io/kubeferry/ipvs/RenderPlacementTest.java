package io.kubeferry.ipvs;

import io.kubeferry.proxy.cli.Main;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `kube-ferry --mode ipvs render` renders IPVS (it used to print iptables: options before render were dropped). */
class RenderPlacementTest {

    private static final String EXAMPLE = "../examples/cluster.yaml";

    private static synchronized String render(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            assertEquals(0, code, e.toString(StandardCharsets.UTF_8));
            return o.toString(StandardCharsets.UTF_8);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
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
