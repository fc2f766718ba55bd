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
}
