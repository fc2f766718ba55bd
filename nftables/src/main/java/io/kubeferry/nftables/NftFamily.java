package io.kubeferry.nftables;

import io.kubeferry.proxy.model.IpFamily;

/**
 * Everything of nftables mode that depends on the IP family, in one value: upstream's proxier switches the same
 * handful of words on {@code proxier.ipFamily} (k/k pkg/proxy/nftables/proxier.go: {@code ipX}, {@code ipvX_addr},
 * {@code noLocalhost}, the knftables family). One dataplane instance programs one family's table, so the renderer,
 * the read-back, the kernel check and the cleanup of an instance all take this one value.
 *
 * @param ipFamily    the family
 * @param name        the nftables family of the table and the address expression's protocol: {@code ip} / {@code ip6}
 *                    (upstream's knftables family and {@code ipX} are the same word)
 * @param addressType the set type of one address: {@code ipv4_addr} / {@code ipv6_addr}
 * @param noLocalhost the match that keeps NodePorts off loopback: {@code ip daddr != 127.0.0.0/8} /
 *                    {@code ip6 daddr != ::1} (nftables mode has no localhost NodePorts, KEP-3866)
 */
record NftFamily(IpFamily ipFamily, String name, String addressType, String noLocalhost) {

    static final NftFamily IPV4 = new NftFamily(IpFamily.IPv4, "ip", "ipv4_addr", "ip daddr != 127.0.0.0/8");
    static final NftFamily IPV6 = new NftFamily(IpFamily.IPv6, "ip6", "ipv6_addr", "ip6 daddr != ::1");

    static NftFamily of(IpFamily family) {
        return family == IpFamily.IPv6 ? IPV6 : IPV4;
    }

    /** {@code ip daddr} / {@code ip6 daddr}. */
    String daddr() {
        return name + " daddr";
    }

    /** {@code ip saddr} / {@code ip6 saddr}. */
    String saddr() {
        return name + " saddr";
    }
}
