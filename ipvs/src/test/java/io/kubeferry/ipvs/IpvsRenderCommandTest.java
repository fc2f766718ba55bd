package io.kubeferry.ipvs;

import io.kubeferry.proxy.cli.Main;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code render --mode ipvs}: its header says how the sections are applied, in the sections' own comment form. */
class IpvsRenderCommandTest {

    @Test
    void theHeaderIsCommentLinesSayingHowEachSectionIsApplied() {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = Main.execute("render", "--mode", "ipvs", "--hostname-override", "node-a", "-f", "../examples/cluster.yaml");
        } finally {
            System.setOut(out);
        }
        assertEquals(0, code);
        String text = captured.toString(StandardCharsets.UTF_8);
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
}
