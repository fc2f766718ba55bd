package io.kubeferry.proxy.config;

import io.kubeferry.proxy.model.IpFamily;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NodePortAddressesTest {

    /** Upstream's NewNodePortAddresses(family, ...): only the family's CIDRs count; none of them means all of the family. */
    @Test
    void eachFamilySeesItsOwnCidrsAndTheKeywords() {
        List<String> dual = List.of("198.18.0.0/15", "2001:db8:2::/64");
        assertEquals(List.of("198.18.0.0/15"), NodePortAddresses.forFamily(dual, IpFamily.IPv4));
        assertEquals(List.of("2001:db8:2::/64"), NodePortAddresses.forFamily(dual, IpFamily.IPv6));
        assertEquals(List.of("all"), NodePortAddresses.forFamily(List.of("198.18.0.0/15"), IpFamily.IPv6));
        assertEquals(List.of("all"), NodePortAddresses.forFamily(List.of("2001:db8::/32"), IpFamily.IPv4));
        assertEquals(List.of("primary"), NodePortAddresses.forFamily(List.of("primary", "198.18.0.0/15"), IpFamily.IPv6));
        assertEquals(List.of(), NodePortAddresses.forFamily(List.of(), IpFamily.IPv6), "empty keeps each mode's default");
    }

    @Test
    void theNodeObjectsPrimaryComesFirst() {
        List<String> kernel = List.of("2001:db8:3::1", "2001:db8:2::1");
        assertEquals(List.of("2001:db8:2::1", "2001:db8:3::1"), NodePortAddresses.primaryFirst(List.of("2001:db8:2::1"), kernel));
        assertEquals(kernel, NodePortAddresses.primaryFirst(List.of(), kernel));
    }
}
