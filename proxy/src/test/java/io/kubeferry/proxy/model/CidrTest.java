package io.kubeferry.proxy.model;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CidrTest {

    @Test
    void ipv4BlocksParseAndContainTheirAddresses() {
        Cidr block = Cidr.parse("198.18.7.9/16");
        assertEquals(IpFamily.IPv4, block.family());
        assertEquals("198.18.0.0/16", block.toString());
        assertTrue(block.contains("198.18.255.1"));
        assertFalse(block.contains("198.19.0.1"));
        assertEquals("198.18.0.1/32", Cidr.parse("198.18.0.1").toString());
    }

    @Test
    void ipv6BlocksParseCanonicallyAndClearHostBits() {
        Cidr block = Cidr.parse("2001:DB8:0:0:1::7/64");
        assertEquals(IpFamily.IPv6, block.family());
        assertEquals("2001:db8::/64", block.toString());
        assertTrue(block.contains("2001:db8::ffff"));
        assertFalse(block.contains("2001:db8:1::1"));
        assertEquals("::/0", Cidr.parse("::/0").toString());
        assertEquals("2001:db8::1/128", Cidr.parse("2001:db8::1").toString());
        assertEquals("2001:db8::ab:0/112", Cidr.parse("2001:db8::ab:1/112").toString());
    }

    @Test
    void aBlockNeverContainsTheOtherFamilysAddresses() {
        assertFalse(Cidr.parse("0.0.0.0/0").contains("::1"));
        assertFalse(Cidr.parse("::/0").contains("127.0.0.1"));
        assertFalse(Cidr.parse("::/0").contains("garbage"));
    }

    @Test
    void badInputIsRejectedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Cidr.parse("2001:db8::/129")).getMessage().contains("0..128"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0/33")).getMessage().contains("0..32"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Cidr.parse("2001:db8::g/64")).getMessage().contains("IPv6"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0/-1"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("fe80::1%eth0/64"));
    }

    @Test
    void blocksSortByFamilyThenNetworkThenPrefix() {
        TreeSet<Cidr> sorted = new TreeSet<>(List.of(Cidr.parse("2001:db8::/32"), Cidr.parse("198.19.0.0/16"), Cidr.parse("198.18.0.0/24"),
                Cidr.parse("198.18.0.0/16")));
        assertEquals("[198.18.0.0/16, 198.18.0.0/24, 198.19.0.0/16, 2001:db8::/32]", sorted.toString());
    }

    @Test
    void familiesAreToldFromLiteralsOnly() {
        assertEquals(IpFamily.IPv4, IpFamily.of("198.18.0.1"));
        assertEquals(IpFamily.IPv6, IpFamily.of("2001:db8::1"));
        assertEquals(IpFamily.IPv6, IpFamily.of("2001:db8::/64"));
        assertNull(IpFamily.of("[2001:db8::1]"));
        assertNull(IpFamily.of("example.com"));
        assertEquals("2001:db8::1", Cidr.canonical("2001:0DB8:0::1"));
    }

    @Test
    void endpointStringsBracketIpv6AsGoJoinHostPortDoes() {
        Endpoint v6 = new Endpoint("2001:db8::5", 8080, true, true, false, "", "", Set.of(), Set.of(), false);
        Endpoint v4 = new Endpoint("198.18.0.5", 8080, true, true, false, "", "", Set.of(), Set.of(), false);
        assertEquals("[2001:db8::5]:8080", v6.hostPort());
        assertEquals("198.18.0.5:8080", v4.hostPort());
        assertEquals(IpFamily.IPv6, v6.family());
    }
}
