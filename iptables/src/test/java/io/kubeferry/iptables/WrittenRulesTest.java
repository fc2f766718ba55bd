package io.kubeferry.iptables;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WrittenRulesTest {

    @Test
    void countsRuleLinesPerTable() {
        String text = "*filter\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j REJECT\nCOMMIT\n"
                + "*nat\n:KUBE-SVC-X - [0:0]\n-A KUBE-SVC-X -j KUBE-SEP-Y\n-A KUBE-SEP-Y -j DNAT\n-X KUBE-OLD\nCOMMIT\n";
        assertEquals(Map.of("filter", 1, "nat", 2), WrittenRules.count(text));
        assertEquals(Map.of("filter", 0), WrittenRules.count("*filter\nCOMMIT\n"));
    }
}
