package io.kubeferry.iptables;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelRulesTest {

    @Test
    void aRuleTargetIsItsJumpOrGotoNotAWordInsideAComment() {
        assertEquals("KUBE-SERVICES",
                KernelRules.target("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"));
        assertEquals("DNAT", KernelRules.target("-A KUBE-SEP-X -p tcp -m tcp -j DNAT --to-destination 198.18.0.2:8080"));
        assertEquals("KUBE-SVC-X", KernelRules.target("-A KUBE-EXT-X -m comment --comment \"a -j KUBE-FAKE here\" -g KUBE-SVC-X"));
        assertNull(KernelRules.target("-A INPUT -p tcp"));
    }

    @Test
    void removalDeletesJumpsFromOtherChainsIntoOursThenOurChains() {
        KernelRules kernel = KernelRules.parse("""
                *nat
                :PREROUTING ACCEPT [0:0]
                :KUBE-SERVICES - [0:0]
                :KUBE-SVC-A - [0:0]
                :OPERATOR - [0:0]
                -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
                -A PREROUTING -j OPERATOR
                -A KUBE-SERVICES -d 198.19.0.1/32 -j KUBE-SVC-A
                -A OPERATOR -j KUBE-SVC-A
                COMMIT
                """);
        String program = kernel.removalProgram((table, chain) -> chain.startsWith("KUBE-"));
        assertTrue(program.contains("-D PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"), program);
        assertTrue(program.contains("-D OPERATOR -j KUBE-SVC-A\n"), program);
        assertFalse(program.contains("-D PREROUTING -j OPERATOR"), program);
        assertFalse(program.contains("-D KUBE-SERVICES"), "rules inside our own chains go with the chains: " + program);
        assertTrue(program.contains("-X KUBE-SERVICES\n") && program.contains("-X KUBE-SVC-A\n") && !program.contains("-X OPERATOR"),
                program);
    }

    @Test
    void removalOfTenThousandServicesChainsIsOneLinearPass() {
        StringBuilder save = new StringBuilder("*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n");
        int services = 10_000;
        for (int i = 0; i < services; i++) {
            save.append(":KUBE-SVC-").append(i).append(" - [0:0]\n:KUBE-SEP-").append(i).append(" - [0:0]\n");
        }
        save.append("-A PREROUTING -j KUBE-SERVICES\n");
        for (int i = 0; i < services; i++) {
            save.append("-A KUBE-SERVICES -d 198.19.").append(i / 250).append('.').append(i % 250).append("/32 -j KUBE-SVC-").append(i)
                    .append('\n');
            save.append("-A KUBE-SVC-").append(i).append(" -j KUBE-SEP-").append(i).append('\n');
        }
        save.append("COMMIT\n");
        String program = KernelRules.parse(save.toString()).removalProgram((table, chain) -> chain.startsWith("KUBE-"));
        // Before the set lookup this took minutes (20,001 chains x 20,001 rules); now it returns within the test's
        // own time. What is asserted is the program: one jump deleted, every chain deleted.
        assertEquals(1, program.lines().filter(l -> l.startsWith("-D ")).count());
        assertEquals(2 * services + 1, program.lines().filter(l -> l.startsWith("-X ")).count());
    }
}
