package io.kubeferry.it.peer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NftRulesetTest {

    private static final String LISTING = """
            table ip kube-proxy {
            \tcomment "rules for kube-proxy"
            \tset affinity-X {
            \t\ttype ipv4_addr
            \t\tflags dynamic,timeout
            \t\ttimeout 3h
            \t\telements = { 198.18.0.9 timeout 3h expires 2h59m58s }
            \t}
            \tmap service-ips {
            \t\ttype ipv4_addr . inet_proto . inet_service : verdict
            \t\tcomment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
            \t\telements = { 198.19.1.2 . tcp . 80 comment "a, b" : goto service-B,
            \t\t\t     198.19.1.1 . tcp . 80 : goto service-A }
            \t}
            \tchain services {
            \t\tip daddr . meta l4proto . th dport vmap @service-ips
            \t\tip daddr 198.19.0.0/16 counter packets 3 bytes 180 drop
            \t}
            \tchain nat-prerouting {
            \t\ttype nat hook prerouting priority dstnat; policy accept;
            \t\tjump services
            \t}
            }
            """;

    @Test
    void elementsSortedCountersAndExpiryDroppedRulesInOrder() {
        SavedRuleset rules = NftRuleset.parse(LISTING);
        var table = rules.tables().get("ip kube-proxy");
        assertEquals(List.of("map service-ips: element 198.19.1.1 . tcp . 80 : goto service-A",
                "map service-ips: element 198.19.1.2 . tcp . 80 comment \"a, b\" : goto service-B"), table.get("map service-ips").rules());
        assertEquals("type ipv4_addr . inet_proto . inet_service : verdict; comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\"",
                table.get("map service-ips").policy());
        assertEquals(List.of("set affinity-X: element 198.18.0.9 timeout 3h"), table.get("set affinity-X").rules());
        assertEquals(
                List.of("chain services: ip daddr . meta l4proto . th dport vmap @service-ips",
                        "chain services: ip daddr 198.19.0.0/16 drop"),
                table.get("chain services").rules());
        assertEquals("type nat hook prerouting priority dstnat; policy accept", table.get("chain nat-prerouting").policy());
        // Two runs with the elements listed in another order are the same ruleset.
        String reordered = LISTING.replace(
                "198.19.1.2 . tcp . 80 comment \"a, b\" : goto service-B,\n\t\t\t     198.19.1.1 . tcp . 80 : goto service-A",
                "198.19.1.1 . tcp . 80 : goto service-A,\n\t\t\t     198.19.1.2 . tcp . 80 comment \"a, b\" : goto service-B");
        assertEquals(rules, NftRuleset.parse(reordered));
    }

    @Test
    void notAListingFails() {
        assertThrows(IllegalArgumentException.class, () -> NftRuleset.parse("*nat\n:PREROUTING ACCEPT\n"));
        assertThrows(IllegalArgumentException.class, () -> NftRuleset.parse("table ip kube-proxy {\n\tchain services {\n"));
    }
}
