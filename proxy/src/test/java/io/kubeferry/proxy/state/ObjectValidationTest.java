package io.kubeferry.proxy.state;

import io.kubeferry.proxy.model.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API server's rules, case by case (values from upstream's validation tests where they exist). */
class ObjectValidationTest {

    private static final String S63 = "a".repeat(63);
    private static final String S64 = "a".repeat(64);

    @ParameterizedTest(name = "{0}: 1123 label {1}, 1035 label {2}, 1123 subdomain {3}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            web               | true  | true  | true
            a                 | true  | true  | true
            1abc              | true  | false | true
            a-b-c             | true  | true  | true
            -a                | false | false | false
            a-                | false | false | false
            Web               | false | false | false
            a_b               | false | false | false
            a.b               | false | false | true
            a..b              | false | false | false
            a b               | false | false | false
            'a"b'             | false | false | false
            a;b               | false | false | false
            é                 | false | false | false
            ''                | false | false | false
            NULL              | false | false | false
            """)
    void names(String value, boolean label1123, boolean label1035, boolean subdomain) {
        assertEquals(label1123, ObjectValidation.dns1123Label(value).isEmpty(), "1123 label");
        assertEquals(label1035, ObjectValidation.dns1035Label(value).isEmpty(), "1035 label");
        assertEquals(subdomain, ObjectValidation.dns1123Subdomain(value).isEmpty(), "1123 subdomain");
    }

    @Test
    void lengthLimits() {
        assertTrue(ObjectValidation.dns1123Label(S63).isEmpty());
        assertTrue(ObjectValidation.dns1123Label(S64).get().contains("63"));
        assertTrue(ObjectValidation.dns1035Label(S64).get().contains("63"));
        String sub253 = (S63 + ".").repeat(3) + "a".repeat(61);
        assertEquals(253, sub253.length());
        assertTrue(ObjectValidation.dns1123Subdomain(sub253).isEmpty());
        assertFalse(ObjectValidation.dns1123Subdomain(sub253 + "a").isEmpty());
        assertFalse(ObjectValidation.dns1123Label("a\nb").isEmpty(), "a newline never passes (regex $ pitfalls)");
        assertFalse(ObjectValidation.dns1123Label("ab\n").isEmpty());
    }

    @ParameterizedTest(name = "{0}: IPv4 {1}, IPv6 {2}, non-special IPv4 {3}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            198.19.0.1        | true  | false | true
            0.0.0.0           | true  | false | false
            255.255.255.255   | true  | false | true
            127.0.0.1         | true  | false | false
            169.254.1.1       | true  | false | false
            224.0.0.5         | true  | false | false
            224.0.1.5         | true  | false | true
            999.1.2.3         | false | false | false
            256.1.2.3         | false | false | false
            010.1.2.3         | false | false | false
            1.2.3.04          | false | false | false
            1.2.3             | false | false | false
            1.2.3.4.5         | false | false | false
            1.2.3.4/32        | false | false | false
            ' 1.2.3.4'        | false | false | false
            '1.2.3.4 -j DROP' | false | false | false
            +1.2.3.4          | false | false | false
            1.2.3.-4          | false | false | false
            ١.٢.٣.٤           | false | false | false
            ''                | false | false | false
            NULL              | false | false | false
            fd00::1           | false | true  | false
            ::1               | false | true  | false
            ::ffff:1.2.3.4    | false | true  | false
            fd00::1%eth0      | false | false | false
            fd00:::1          | false | false | false
            [fd00::1]         | false | false | false
            """)
    void addresses(String value, boolean ipv4, boolean ipv6, boolean nonSpecial) {
        assertEquals(ipv4, ObjectValidation.isIPv4(value), "IPv4");
        assertEquals(ipv6, ObjectValidation.isIPv6(value), "IPv6");
        assertEquals(nonSpecial, ObjectValidation.nonSpecialIPv4(value).isEmpty(), "non-special IPv4");
    }

    @ParameterizedTest(name = "{0}: non-special IPv6 {1}, non-special of either family {2}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            2001:db8::1        | true  | true
            2001:DB8:0:0::1    | true  | true
            fd00::1            | true  | true
            ff05::1            | true  | true
            ::                 | false | false
            ::1                | false | false
            0:0:0:0:0:0:0:1    | false | false
            fe80::1            | false | false
            febf::1            | false | false
            fec0::1            | true  | true
            ff02::1            | false | false
            ff12::1            | false | false
            ::ffff:1.2.3.4     | false | false
            ::ffff:0102:0304   | false | false
            198.19.0.1         | false | true
            127.0.0.1          | false | false
            fd00::1%eth0       | false | false
            bogus              | false | false
            NULL               | false | false
            """)
    void ipv6Addresses(String value, boolean nonSpecialIPv6, boolean nonSpecial) {
        assertEquals(nonSpecialIPv6, ObjectValidation.nonSpecialIPv6(value).isEmpty(), "non-special IPv6");
        assertEquals(nonSpecial, ObjectValidation.nonSpecialIP(value).isEmpty(), "non-special IP");
    }

    @ParameterizedTest(name = "{0}: IPv4 CIDR {1}, IPv6 CIDR {2}")
    @CsvSource(delimiter = '|', textBlock = """
            198.18.0.0/16   | true  | false
            0.0.0.0/0       | true  | false
            1.2.3.4/32      | true  | false
            1.2.3.4/33      | false | false
            1.2.3.4/+8      | false | false
            1.2.3.4/08      | false | false
            1.2.3.4         | false | false
            01.2.3.4/8      | false | false
            fd00::/8        | false | true
            fd00::/129      | false | false
            """)
    void cidrs(String value, boolean ipv4, boolean ipv6) {
        assertEquals(ipv4, ObjectValidation.isIPv4Cidr(value));
        assertEquals(ipv6, ObjectValidation.isIPv6Cidr(value));
    }

    @Test
    void portsAndProtocols() {
        assertTrue(ObjectValidation.portNumber(1).isEmpty());
        assertTrue(ObjectValidation.portNumber(65535).isEmpty());
        assertFalse(ObjectValidation.portNumber(0).isEmpty());
        assertFalse(ObjectValidation.portNumber(65536).isEmpty());
        assertFalse(ObjectValidation.portNumber(-1).isEmpty());
        assertFalse(ObjectValidation.portNumber(null).isEmpty());
        assertTrue(ObjectValidation.optionalPortNumber(0).isEmpty());
        assertTrue(ObjectValidation.optionalPortNumber(null).isEmpty());
        assertFalse(ObjectValidation.optionalPortNumber(-5).isEmpty());
        assertEquals(Optional.of(Protocol.TCP), ObjectValidation.protocol(null), "absent defaults to TCP as the API server does");
        assertEquals(Optional.of(Protocol.SCTP), ObjectValidation.protocol("SCTP"));
        assertEquals(Optional.empty(), ObjectValidation.protocol("tcp"), "the API server is case-sensitive");
        assertEquals(Optional.empty(), ObjectValidation.protocol("ICMP"));
        assertEquals(Optional.empty(), ObjectValidation.protocol("TCP\n"));
    }

    @Test
    void quotedValuesCannotForgeALogLine() {
        assertEquals("\"a\\\"b\\nc\\\\d\\u00e9\"", ObjectValidation.quote("a\"b\nc\\dé"));
        String q = ObjectValidation.quote("x".repeat(300));
        assertTrue(q.endsWith("... (300 characters)") && q.length() < 100, q);
        assertFalse(ObjectValidation.quote("a\r\n\u0000b").chars().anyMatch(c -> c < 0x20));
    }
}
