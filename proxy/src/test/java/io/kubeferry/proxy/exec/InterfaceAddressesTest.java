package io.kubeferry.proxy.exec;

import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.testing.AnsweredTools;
import io.kubeferry.proxy.testing.FakeNetfilter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The kernel's local addresses per family, as NodePorts need them (issue 14). */
class InterfaceAddressesTest {

    @Test
    void ipv6AddressesAreReadFromIp6OutputInCanonicalForm() throws Exception {
        List<ToolCommand> ran = new ArrayList<>();
        ToolRunner tools = new ToolRunner() {

            @Override
            public ToolResult run(ToolCommand command) {
                ran.add(command);
                return new ToolResult(0, """
                        1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever
                        2: eth0    inet6 2001:DB8:2:0:0:0:0:1/64 scope global \\       valid_lft forever preferred_lft forever
                        2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever
                        """, "");
            }

            @Override
            public ToolResult runAllowingFailure(ToolCommand command) {
                return run(command);
            }
        };
        assertEquals(List.of("::1", "2001:db8:2::1", "fe80::1"), InterfaceAddresses.ips(tools, IpFamily.IPv6));
        assertEquals("ip -o -6 addr show", ran.get(0).display());
        assertEquals(List.of(new InterfaceAddresses.Address("eth0", "2001:db8:2::1")),
                InterfaceAddresses.shown(tools, IpFamily.IPv6).subList(1, 2));
    }

    @Test
    void ipv4StaysAsItWas() throws Exception {
        FakeNetfilter kernel = new FakeNetfilter();
        assertEquals(List.of("127.0.0.1", "198.18.0.1"), InterfaceAddresses.ips(AnsweredTools.without(kernel), IpFamily.IPv4));
        assertEquals("ip -o -4 addr show", kernel.commands("ip").get(0).display());
    }
}
