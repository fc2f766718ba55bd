package io.kubeferry.proxy.model;

/**
 * An IPv4 CIDR block, parsed strictly: Services, config and EndpointSlices all carry CIDRs and
 * addresses as strings, and a bad one must be rejected with a reason rather than reach iptables.
 *
 * @param network the network address as an unsigned 32-bit value
 * @param prefix  the prefix length, 0..32
 */
public record Cidr(long network, int prefix) {

    /** Parses {@code a.b.c.d/n} (or a bare address as /32); host bits are cleared as iptables would. */
    public static Cidr parse(String text) {
        String value = text.strip();
        int slash = value.indexOf('/');
        int prefix = 32;
        String address = value;
        if (slash >= 0) {
            address = value.substring(0, slash);
            try {
                prefix = Integer.parseInt(value.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid CIDR \"" + text + "\": bad prefix length");
            }
            if (prefix < 0 || prefix > 32) {
                throw new IllegalArgumentException("invalid CIDR \"" + text + "\": prefix length must be 0..32");
            }
        }
        long ip = ipv4(address);
        return new Cidr(ip & mask(prefix), prefix);
    }

    /** True when {@code ip} (an IPv4 address) lies inside this block; false for anything unparsable. */
    public boolean contains(String ip) {
        if (!isIPv4(ip)) {
            return false;
        }
        return (ipv4(ip) & mask(prefix)) == network;
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

    private static long mask(int prefix) {
        return prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
    }

    @Override
    public String toString() {
        return ((network >> 24) & 255) + "." + ((network >> 16) & 255) + "." + ((network >> 8) & 255) + "." + (network & 255) + "/"
                + prefix;
    }
}
