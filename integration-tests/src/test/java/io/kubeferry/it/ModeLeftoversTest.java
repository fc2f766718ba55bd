package io.kubeferry.it;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The mode-switch tests trust this to find what a switch left: it must find it, and nothing that belongs. */
class ModeLeftoversTest {

    private static final String IPTABLES_MODE = """
            *mangle
            :PREROUTING ACCEPT [0:0]
            :KUBE-PROXY-CANARY - [0:0]
            COMMIT
            *filter
            :INPUT ACCEPT [0:0]
            :KUBE-FIREWALL - [0:0]
            :KUBE-SERVICES - [0:0]
            :KUBE-PROXY-CANARY - [0:0]
            -A INPUT -j KUBE-FIREWALL
            COMMIT
            *nat
            :PREROUTING ACCEPT [0:0]
            :KUBE-SERVICES - [0:0]
            :KUBE-SVC-ABCDEFGHIJKLMNOP - [0:0]
            :KUBE-SEP-ABCDEFGHIJKLMNOP - [0:0]
            -A PREROUTING -j KUBE-SERVICES
            COMMIT
            """;

    private static final String IPVS_MODE = """
            *filter
            :KUBE-FORWARD - [0:0]
            :KUBE-IPVS-FILTER - [0:0]
            -A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN
            COMMIT
            *nat
            :KUBE-SERVICES - [0:0]
            :KUBE-NODE-PORT - [0:0]
            COMMIT
            """;

    @Test
    void aNodeHoldingOnlyItsModesStateAndKubeletsChainsHasNoLeftovers() {
        assertEquals(List.of(), node(IPTABLES_MODE, "", "table ip filter\ntable ip nat\n", "", false).of("iptables"));
        assertEquals(List.of(), node(IPVS_MODE, "", "", "-A -t 198.19.0.10:80 -s rr\n", true, "KUBE-CLUSTER-IP").of("ipvs"));
        assertEquals(List.of(), node("*filter\n:KUBE-FIREWALL - [0:0]\nCOMMIT\n", "", "table ip kube-proxy\n", "", false).of("nftables"));
    }

    @Test
    void everyOtherModesStateIsNamed() {
        assertEquals(List.of("iptables-nft filter/KUBE-IPVS-FILTER (not iptables mode's)",
                "iptables-nft nat/KUBE-NODE-PORT (not iptables mode's)",
                "IPVS mode's rule: -A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN",
                "IPVS virtual or real server: -A -t 198.19.0.10:80 -s rr", "kube-ipvs0", "ipset KUBE-CLUSTER-IP", "table ip kube-proxy"),
                node(IPVS_MODE, "", "table ip kube-proxy\n", "-A -t 198.19.0.10:80 -s rr\n", true, "KUBE-CLUSTER-IP").of("iptables"));
        assertEquals(
                List.of("iptables-nft filter/KUBE-PROXY-CANARY (not ipvs mode's)", "iptables-nft filter/KUBE-SERVICES (not ipvs mode's)",
                        "iptables-nft mangle/KUBE-PROXY-CANARY (not ipvs mode's)",
                        "iptables-nft nat/KUBE-SEP-ABCDEFGHIJKLMNOP (not ipvs mode's)",
                        "iptables-nft nat/KUBE-SVC-ABCDEFGHIJKLMNOP (not ipvs mode's)"),
                node(IPTABLES_MODE, "", "", "", false).of("ipvs"));
        assertEquals(6, node(IPTABLES_MODE, "", "", "", false).of("nftables").size(), "all but kubelet's KUBE-FIREWALL");
    }

    @Test
    void theFlavourAModeDoesNotWriteMayHoldNoneOfItsChains() {
        String legacy = "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-ABCDEFGHIJKLMNOP - [0:0]\nCOMMIT\n";
        assertEquals(List.of("nat/KUBE-SERVICES in both iptables-nft and iptables-legacy"), node(IPTABLES_MODE, legacy, "", "", false)
                .of("iptables").subList(0, 1));
        assertEquals(List.of("iptables-legacy nat/KUBE-SVC-ABCDEFGHIJKLMNOP (not iptables mode's)"),
                node(IPTABLES_MODE, "*nat\n:KUBE-SVC-ABCDEFGHIJKLMNOP - [0:0]\nCOMMIT\n", "", "", false).of("iptables"));
    }

    @Test
    void aJumpFromABuiltInChainThatIsThereTwiceIsNamed() {
        String twice = IPTABLES_MODE.replace("-A PREROUTING -j KUBE-SERVICES\n",
                "-A PREROUTING -j KUBE-SERVICES\n-A PREROUTING -j KUBE-SERVICES\n");
        assertEquals(List.of("iptables-nft nat twice: -A PREROUTING -j KUBE-SERVICES"), node(twice, "", "", "", false).of("iptables"));
    }

    @Test
    void readsTheScriptsSections() {
        ModeLeftovers read = ModeLeftovers.parse("### nft-save\n" + IPVS_MODE + "### legacy-save\n### tables\ntable ip kube-proxy\n"
                + "### ipvs\n### device\n5: kube-ipvs0: <BROADCAST,NOARP> mtu 1500\n### ipsets\nKUBE-CLUSTER-IP\n### extra\nignored\n");
        assertEquals(IPVS_MODE, read.iptablesNft());
        assertEquals(List.of("KUBE-CLUSTER-IP"), read.ipsets());
        assertEquals(List.of("table ip kube-proxy"), read.of("ipvs"));
    }

    private static ModeLeftovers node(String nft, String legacy, String tables, String ipvs, boolean device, String... ipsets) {
        return new ModeLeftovers(nft, legacy, tables, ipvs, device, List.of(ipsets));
    }
}
