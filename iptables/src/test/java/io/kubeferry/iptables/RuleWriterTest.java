package io.kubeferry.iptables;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RuleWriterTest {

    @Test
    void joinsWordsAndListsWithSingleSpacesAndLeavesEmptyListsOut() {
        RuleWriter out = new RuleWriter(64);
        out.rule("-A", "KUBE-SEP-X", List.of(), List.of("-s", "198.18.0.2"), "-j", "KUBE-MARK-MASQ");
        out.chain("KUBE-SEP-X");
        out.line("COMMIT");
        assertEquals("-A KUBE-SEP-X -s 198.18.0.2 -j KUBE-MARK-MASQ\n:KUBE-SEP-X - [0:0]\nCOMMIT\n", out.text());
        assertEquals(1, out.rules(), "only rules are counted");
    }

    /** As iptables-save prints them: double quotes, and a backslash before " \ and '. */
    @Test
    void commentsAreQuotedAndEscapedAsIptablesSavePrintsThem() {
        assertEquals(List.of("-m", "comment", "--comment", "\"ns1/web cluster IP\""), RuleWriter.comment("ns1/web cluster IP"));
        assertEquals("\"a \\\"b\\\" \\\\ \\'c\\'\"", RuleWriter.quoted("a \"b\" \\ 'c'"));
    }

    @Test
    void aWordThatIsNeitherStringNorListIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new RuleWriter(8).rule("-A", 3));
    }
}
