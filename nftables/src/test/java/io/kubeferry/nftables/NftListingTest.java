package io.kubeferry.nftables;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Listings as nft 1.0.6 prints them (seen in a network namespace on kernel 6.18). */
class NftListingTest {

    private static final String CHAINS = """
            table ip filter {
            \tchain INPUT {
            \t\ttype filter hook input priority filter; policy accept;
            \t}
            }
            table ip kube-proxy {
            \tchain filter-input {
            \t\ttype filter hook input priority filter; policy accept;
            \t}
            \tchain endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 {
            \t}
            \tchain services {
            \t}
            }
            """;

    private static final String SETS = """
            table ip kube-proxy {
            \tset cluster-ips {
            \t\ttype ipv4_addr
            \t\tcomment "Active ClusterIPs"
            \t}
            \tset affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 {
            \t\ttype ipv4_addr
            \t\tsize 65535
            \t\tflags dynamic,timeout
            \t\ttimeout 3h
            \t}
            \tmap service-ips {
            \t\ttype ipv4_addr . inet_proto . inet_service : verdict
            \t}
            }
            table ip other {
            \tset affinity-not-ours {
            \t}
            }
            """;

    @Test
    void chainsOfOurTableOnly() {
        assertEquals(Set.of("filter-input", "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80", "services"),
                NftListing.names(CHAINS, "ip", "kube-proxy", "chain"));
    }

    @Test
    void setsAndMaps() {
        assertEquals(Set.of("cluster-ips", "affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80"),
                NftListing.names(SETS, "ip", "kube-proxy", "set"));
        assertEquals(Set.of("service-ips"), NftListing.names(SETS, "ip", "kube-proxy", "map"));
        assertEquals(Set.of(), NftListing.names("", "ip", "kube-proxy", "set"));
    }
}
