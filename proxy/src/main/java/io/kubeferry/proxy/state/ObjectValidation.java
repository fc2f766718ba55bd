package io.kubeferry.proxy.state;

import io.kubeferry.proxy.model.Protocol;
import io.netty.util.NetUtil;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The API server's syntax rules for the fields kube-ferry reads (k8s.io/apimachinery's
 * util/validation and k8s.io/kubernetes pkg/apis/core and pkg/apis/discovery validation), applied again
 * here because objects also come from files and from API servers that do not validate (mocks, old
 * versions). Each check returns the reason a value is invalid, or empty when it is valid. Pure.
 */
public final class ObjectValidation {

    static final int LABEL_MAX = 63;
    static final int SUBDOMAIN_MAX = 253;
    /** Upstream's MaxClientIPServiceAffinitySeconds. */
    public static final int MAX_AFFINITY_SECONDS = 86400;
    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    /** One octet without leading zeros: "0" or 1-255, so "010" cannot mean 8 to one reader and 10 to another. */
    private static final Pattern OCTET = Pattern.compile("0|[1-9][0-9]{0,2}");
    private static final int QUOTE_MAX = 64;

    private ObjectValidation() {
    }

    /** RFC 1123 label: namespaces, Service and EndpointSlice port names. */
    public static Optional<String> dns1123Label(String value) {
        return name(value, LABEL_MAX, DNS1123_LABEL,
                "must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character (RFC 1123 label)");
    }

    /** RFC 1035 label: Service names. */
    public static Optional<String> dns1035Label(String value) {
        return name(value, LABEL_MAX, DNS1035_LABEL,
                "must consist of lower case alphanumeric characters or '-', start with a letter and end with an alphanumeric character (RFC 1035 label)");
    }

    /** RFC 1123 subdomain: EndpointSlice and Node names. */
    public static Optional<String> dns1123Subdomain(String value) {
        return name(value, SUBDOMAIN_MAX, DNS1123_SUBDOMAIN,
                "must consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character (RFC 1123 subdomain)");
    }

    /** The checks the three name forms share: set, not too long, matching {@code form} (else {@code rule}). */
    private static Optional<String> name(String value, int max, Pattern form, String rule) {
        if (value == null || value.isEmpty()) {
            return Optional.of("must not be empty");
        }
        if (value.length() > max) {
            return Optional.of("must be no more than " + max + " characters");
        }
        return form.matcher(value).matches() ? Optional.empty() : Optional.of(rule);
    }

    /** A port number, 1-65535. */
    public static Optional<String> portNumber(Integer port) {
        if (port == null) {
            return Optional.of("must be set");
        }
        return port < 1 || port > 65535 ? Optional.of("must be between 1 and 65535") : Optional.empty();
    }

    /** A port that may be absent: 0 (none) or 1-65535 (nodePort, healthCheckNodePort). */
    public static Optional<String> optionalPortNumber(Integer port) {
        return port == null || port == 0 ? Optional.empty() : portNumber(port);
    }

    /** TCP, UDP or SCTP, spelt exactly so; absent means TCP, as the API server defaults it. */
    public static Optional<Protocol> protocol(String value) {
        if (value == null || value.isEmpty()) {
            return Optional.of(Protocol.TCP);
        }
        for (Protocol p : Protocol.values()) {
            if (p.name().equals(value)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** A dotted-quad IPv4 address, strictly: four decimal octets 0-255, no leading zeros, nothing else. */
    public static boolean isIPv4(String value) {
        if (value == null || value.length() > 15) {
            return false;
        }
        String[] parts = value.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (!OCTET.matcher(part).matches() || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    /** An IPv6 address in text form (Netty's parser: no zone, no brackets). */
    public static boolean isIPv6(String value) {
        // Brackets and zones are URL and socket syntax, not an address field's.
        return value != null && value.indexOf(':') >= 0 && value.indexOf('%') < 0 && value.indexOf('[') < 0
                && NetUtil.isValidIpV6Address(value);
    }

    /** Either family. */
    public static boolean isIP(String value) {
        return isIPv4(value) || isIPv6(value);
    }

    /** A CIDR of either family. */
    public static boolean isCidr(String value) {
        return isIPv4Cidr(value) || isIPv6Cidr(value);
    }

    /**
     * Upstream's ValidateNonSpecialIP for an IPv4 address (endpoint addresses, externalIPs): not unspecified,
     * loopback, link-local or link-local multicast, which would hijack the node's own traffic.
     */
    public static Optional<String> nonSpecialIPv4(String value) {
        if (!isIPv4(value)) {
            return Optional.of("must be a valid IPv4 address");
        }
        String[] p = value.split("\\.");
        int a = Integer.parseInt(p[0]);
        int b = Integer.parseInt(p[1]);
        int c = Integer.parseInt(p[2]);
        if (value.equals("0.0.0.0")) {
            return Optional.of("may not be unspecified (0.0.0.0)");
        }
        if (a == 127) {
            return Optional.of("may not be in the loopback range (127.0.0.0/8)");
        }
        if (a == 169 && b == 254) {
            return Optional.of("may not be in the link-local range (169.254.0.0/16)");
        }
        if (a == 224 && b == 0 && c == 0) {
            return Optional.of("may not be in the link-local multicast range (224.0.0.0/24)");
        }
        return Optional.empty();
    }

    /**
     * Upstream's ValidateNonSpecialIP for an IPv6 address: not unspecified, loopback, link-local or link-local
     * multicast (Go's net.IP checks), and not IPv4-mapped ({@code ::ffff:a.b.c.d}): the API server's strict parser
     * refuses those, and Go would take one for IPv4, so its family would be ambiguous.
     */
    public static Optional<String> nonSpecialIPv6(String value) {
        if (!isIPv6(value)) {
            return Optional.of("must be a valid IPv6 address");
        }
        byte[] b = NetUtil.createByteArrayFromIpAddressString(value);
        if (isIPv4Mapped(b)) {
            return Optional.of("must not be an IPv4-mapped IPv6 address");
        }
        boolean zeroUpTo15 = true;
        for (int i = 0; i < 15; i++) {
            zeroUpTo15 &= b[i] == 0;
        }
        if (zeroUpTo15 && b[15] == 0) {
            return Optional.of("may not be unspecified (::)");
        }
        if (zeroUpTo15 && b[15] == 1) {
            return Optional.of("may not be in the loopback range (::1/128)");
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) {
            return Optional.of("may not be in the link-local range (fe80::/10)");
        }
        if ((b[0] & 0xff) == 0xff && (b[1] & 0x0f) == 0x02) {
            return Optional.of("may not be in the link-local multicast range (ff02::/16)");
        }
        return Optional.empty();
    }

    /** {@link #nonSpecialIPv4} or {@link #nonSpecialIPv6}, by the address's family (garbage: not a valid IP address). */
    public static Optional<String> nonSpecialIP(String value) {
        if (isIPv4(value)) {
            return nonSpecialIPv4(value);
        }
        return isIPv6(value) ? nonSpecialIPv6(value) : Optional.of("must be a valid IP address");
    }

    /** True for an IPv6 address that is IPv4-mapped ({@code ::ffff:a.b.c.d}). */
    public static boolean isIPv4Mapped(String value) {
        return isIPv6(value) && isIPv4Mapped(NetUtil.createByteArrayFromIpAddressString(value));
    }

    private static boolean isIPv4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }

    /** An IPv4 CIDR {@code a.b.c.d/n}, strictly (the address as {@link #isIPv4}, n 0-32 without sign or leading zeros). */
    public static boolean isIPv4Cidr(String value) {
        if (value == null) {
            return false;
        }
        int slash = value.indexOf('/');
        if (slash < 0) {
            return false;
        }
        String prefix = value.substring(slash + 1);
        return isIPv4(value.substring(0, slash)) && OCTET.matcher(prefix).matches() && Integer.parseInt(prefix) <= 32;
    }

    /** An IPv6 CIDR {@code x:y::z/n} (the address as {@link #isIPv6}, n 0-128 without sign or leading zeros). */
    public static boolean isIPv6Cidr(String value) {
        if (value == null) {
            return false;
        }
        int slash = value.indexOf('/');
        if (slash < 0) {
            return false;
        }
        String prefix = value.substring(slash + 1);
        return isIPv6(value.substring(0, slash)) && prefix.matches("0|[1-9][0-9]{0,2}") && Integer.parseInt(prefix) <= 128;
    }

    /**
     * A value as it may appear in a log line or an Event: quoted, with control characters, quotes,
     * backslashes and non-ASCII escaped and long values cut, so no input can forge a line or hide itself.
     */
    public static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), QUOTE_MAX) + 16).append('"');
        int shown = Math.min(value.length(), QUOTE_MAX);
        for (int i = 0; i < shown; i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (ch < 0x20 || ch > 0x7e) {
                        out.append(String.format("\\u%04x", (int) ch));
                    } else {
                        out.append(ch);
                    }
                }
            }
        }
        out.append('"');
        if (value.length() > shown) {
            out.append("... (").append(value.length()).append(" characters)");
        }
        return out.toString();
    }
}
