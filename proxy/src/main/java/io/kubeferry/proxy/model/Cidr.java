package io.kubeferry.proxy.model;

import io.netty.util.NetUtil;

import java.math.BigInteger;
import java.util.Comparator;
import java.util.Objects;

/**
 * An IPv4 or IPv6 CIDR block, parsed strictly: Services, config and EndpointSlices all carry CIDRs and
 * addresses as strings, and a bad one must be rejected with a reason rather than reach a kernel tool.
 *
 * @param family  the block's family
 * @param network the network address as an unsigned value (32 or 128 bits)
 * @param prefix  the prefix length, 0..32 or 0..128
 */
public record Cidr(IpFamily family, BigInteger network, int prefix) implements Comparable<Cidr> {

    private static final Comparator<Cidr> ORDER = Comparator.comparing(Cidr::family).thenComparing(Cidr::network)
            .thenComparingInt(Cidr::prefix);

    public Cidr {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(network, "network");
    }

    /**
     * Parses {@code a.b.c.d/n}, {@code x:y::z/n} (or a bare address as /32 or /128); host bits are cleared as
     * iptables would.
     */
    public static Cidr parse(String text) {
        String value = text.strip();
        int slash = value.indexOf('/');
        String address = slash < 0 ? value : value.substring(0, slash);
        IpFamily family = IpFamily.of(address);
        if (family == null) {
            throw new IllegalArgumentException(
                    address.contains(":") ? "invalid IPv6 address \"" + address + "\"" : "invalid IPv4 address \"" + address + "\"");
        }
        int prefix = family.bits();
        if (slash >= 0) {
            String digits = value.substring(slash + 1);
            if (!digits.matches("[0-9]{1,3}")) {
                throw new IllegalArgumentException("invalid CIDR \"" + text + "\": bad prefix length");
            }
            prefix = Integer.parseInt(digits);
            if (prefix > family.bits()) {
                throw new IllegalArgumentException("invalid CIDR \"" + text + "\": prefix length must be 0.." + family.bits());
            }
        }
        return new Cidr(family, value(address, family).and(mask(family, prefix)), prefix);
    }

    /** True when {@code ip} (an address of this block's family) lies inside this block; false for anything else. */
    public boolean contains(String ip) {
        if (IpFamily.of(ip) != family || ip.indexOf('/') >= 0) {
            return false;
        }
        return value(ip, family).and(mask(family, prefix)).equals(network);
    }

    /** True when {@code text} is a dotted-quad IPv4 address. */
    public static boolean isIPv4(String text) {
        if (text == null) {
            return false;
        }
        try {
            ipv4(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Parses a dotted-quad address to an unsigned value. */
    public static long ipv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("invalid IPv4 address \"" + text + "\"");
        }
        long value = 0;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("invalid IPv4 address \"" + text + "\"");
            }
            int octet = Integer.parseInt(part);
            if (octet > 255) {
                throw new IllegalArgumentException("invalid IPv4 address \"" + text + "\"");
            }
            value = (value << 8) | octet;
        }
        return value;
    }

    /**
     * An address in the form the kernel tools print it: dotted quad, or RFC 5952's compressed lower-case IPv6
     * ({@code 2001:db8::1}). A valid address in another spelling ({@code 2001:DB8:0::1}) becomes that form, so
     * rules compare equal with what {@code iptables-save} and {@code nft list} print.
     */
    public static String canonical(String address) {
        IpFamily family = IpFamily.of(address);
        if (family != IpFamily.IPv6) {
            return address;
        }
        return NetUtil.bytesToIpAddress(NetUtil.createByteArrayFromIpAddressString(address));
    }

    /** The network address alone, without the prefix. */
    public String address() {
        if (family == IpFamily.IPv4) {
            long n = network.longValue();
            return ((n >> 24) & 255) + "." + ((n >> 16) & 255) + "." + ((n >> 8) & 255) + "." + (n & 255);
        }
        byte[] raw = network.toByteArray();
        byte[] bytes = new byte[16];
        int copy = Math.min(raw.length, 16);
        System.arraycopy(raw, raw.length - copy, bytes, 16 - copy, copy);
        return NetUtil.bytesToIpAddress(bytes);
    }

    private static BigInteger value(String address, IpFamily family) {
        if (family == IpFamily.IPv4) {
            return BigInteger.valueOf(ipv4(address));
        }
        return new BigInteger(1, NetUtil.createByteArrayFromIpAddressString(address));
    }

    private static BigInteger mask(IpFamily family, int prefix) {
        BigInteger all = BigInteger.ONE.shiftLeft(family.bits()).subtract(BigInteger.ONE);
        return all.xor(BigInteger.ONE.shiftLeft(family.bits() - prefix).subtract(BigInteger.ONE));
    }

    @Override
    public int compareTo(Cidr other) {
        return ORDER.compare(this, other);
    }

    @Override
    public String toString() {
        return address() + "/" + prefix;
    }
}
