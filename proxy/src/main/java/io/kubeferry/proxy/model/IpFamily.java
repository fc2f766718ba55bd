package io.kubeferry.proxy.model;

import io.netty.util.NetUtil;

/**
 * An IP family. kube-ferry programs each family a node has on its own, as upstream's MetaProxier runs one
 * proxier per family: every {@link ProxyState} (and every dataplane instance) belongs to exactly one family, and
 * a dual-stack Service appears once in each family's state with that family's ClusterIP.
 */
public enum IpFamily {

    IPv4(32, "127.0.0.0/8", "0.0.0.0/0"), IPv6(128, "::1/128", "::/0");

    private final int bits;
    private final String loopback;
    private final String any;

    IpFamily(int bits, String loopback, String any) {
        this.bits = bits;
        this.loopback = loopback;
        this.any = any;
    }

    /** Address length in bits: a single address's prefix length ({@code /32}, {@code /128}). */
    public int bits() {
        return bits;
    }

    /** The loopback block: {@code 127.0.0.0/8} or {@code ::1/128}. */
    public String loopback() {
        return loopback;
    }

    /** The block that holds every address: {@code 0.0.0.0/0} or {@code ::/0}. */
    public String any() {
        return any;
    }

    /** The Kubernetes API's spelling, as in {@code spec.ipFamilies} and an EndpointSlice's {@code addressType}. */
    public String apiName() {
        return name();
    }

    /** The family of a literal address or CIDR ({@code null} when it is neither: garbage never gets a family). */
    public static IpFamily of(String addressOrCidr) {
        if (addressOrCidr == null) {
            return null;
        }
        int slash = addressOrCidr.indexOf('/');
        String address = slash < 0 ? addressOrCidr : addressOrCidr.substring(0, slash);
        if (Cidr.isIPv4(address)) {
            return IPv4;
        }
        if (!address.isEmpty() && address.indexOf('%') < 0 && address.indexOf('[') < 0 && NetUtil.isValidIpV6Address(address)) {
            return IPv6;
        }
        return null;
    }

    /** True when the literal address (or CIDR) is of this family. */
    public boolean matches(String addressOrCidr) {
        return of(addressOrCidr) == this;
    }

    /** The family named as the API names it ({@code IPv4}, {@code IPv6}), or {@code null}. */
    public static IpFamily ofApiName(String name) {
        for (IpFamily family : values()) {
            if (family.apiName().equals(name)) {
                return family;
            }
        }
        return null;
    }
}
