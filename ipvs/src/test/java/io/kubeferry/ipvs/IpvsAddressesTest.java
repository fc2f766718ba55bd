package io.kubeferry.ipvs;

import io.kubeferry.proxy.exec.InterfaceAddresses;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** kube-ipvs0's address program and the node's own addresses, from values. */
class IpvsAddressesTest {

    @Test
    void theProgramDeletesWhatIsNoLongerWantedThenAddsWhatIsMissing() {
        String program = IpvsAddresses.program(new TreeSet<>(Set.of("198.19.0.1", "198.19.0.3")),
                new TreeSet<>(Set.of("198.19.0.1", "198.19.0.2")));
        assertEquals("address del 198.19.0.2/32 dev kube-ipvs0\naddress add 198.19.0.3/32 dev kube-ipvs0\n", program);
        assertEquals("", IpvsAddresses.program(Set.of("198.19.0.1"), Set.of("198.19.0.1")));
    }

    @Test
    void nodeAddressesLeaveOutKubeIpvs0LoopbackAndServiceAddressesHeldElsewhere() {
        List<InterfaceAddresses.Address> all = List.of(new InterfaceAddresses.Address("lo", "127.0.0.1"),
                new InterfaceAddresses.Address("eth0", "198.18.1.1"), new InterfaceAddresses.Address("eth1", "198.18.1.1"),
                new InterfaceAddresses.Address("kube-ipvs0", "198.19.0.1"), new InterfaceAddresses.Address("eth0", "198.19.0.2"),
                new InterfaceAddresses.Address("eth1", "198.18.2.1"));
        assertEquals(List.of("198.18.1.1", "198.18.2.1"), IpvsAddresses.nodeAddresses(all, Set.of("198.19.0.1", "198.19.0.2")));
    }

    @Test
    void nodePortAddressesNarrowTheNodesAddresses() {
        List<String> node = List.of("198.18.1.1", "198.18.9.9");
        assertEquals(node, IpvsAddresses.forNodePorts(List.of(), node));
        assertEquals(List.of("198.18.9.9"), IpvsAddresses.forNodePorts(List.of("198.18.9.0/24"), node));
    }
}
