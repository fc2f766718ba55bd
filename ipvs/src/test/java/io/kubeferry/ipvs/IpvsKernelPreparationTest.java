package io.kubeferry.ipvs;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The static parts of the kernel preparation: which modules and sysctls, for which kernel. The parts that run
 * tools are exercised through {@link IpvsDataplaneTest} against the fake kernel.
 */
class IpvsKernelPreparationTest {

    @Test
    void modulesAreUpstreamsPlusTheConfiguredSchedulersOnce() {
        assertEquals(List.of("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"), IpvsKernelPreparation.modules("rr"));
        assertEquals(List.of("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack", "ip_vs_mh"),
                IpvsKernelPreparation.modules("mh"));
    }

    @Test
    void sysctlsAddConnReuseOnOldKernelsAndArpOnesWithStrictArp() {
        List<String> base = List.of("net.ipv4.vs.conntrack=1", "net.ipv4.vs.expire_nodest_conn=1",
                "net.ipv4.vs.expire_quiescent_template=1", "net.ipv4.ip_forward=1");
        assertEquals(base, IpvsKernelPreparation.sysctls(false, true));
        List<String> old = IpvsKernelPreparation.sysctls(true, false);
        assertEquals(base, old.subList(0, 4));
        assertEquals(List.of("net.ipv4.vs.conn_reuse_mode=0", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"),
                old.subList(4, old.size()));
    }

    /** IPv6's instance writes IPVS's own sysctls (shared by both families), none of IPv4's forwarding or ARP ones. */
    @Test
    void ipv6WritesOnlyIpvsOwnSysctls() {
        List<String> ipvs = List.of("net.ipv4.vs.conntrack=1", "net.ipv4.vs.expire_nodest_conn=1",
                "net.ipv4.vs.expire_quiescent_template=1");
        assertEquals(ipvs, IpvsKernelPreparation.sysctls(true, true, io.kubeferry.proxy.model.IpFamily.IPv6));
        List<String> old = new java.util.ArrayList<>(ipvs);
        old.add("net.ipv4.vs.conn_reuse_mode=0");
        assertEquals(old, IpvsKernelPreparation.sysctls(false, false, io.kubeferry.proxy.model.IpFamily.IPv6));
        assertEquals(IpvsKernelPreparation.sysctls(true, false),
                IpvsKernelPreparation.sysctls(true, false, io.kubeferry.proxy.model.IpFamily.IPv4));
    }

    @Test
    void kernelReleasesCompareByMajorAndMinor() {
        assertTrue(IpvsKernelPreparation.versionAtLeast("6.1.0-57-amd64", 5, 9));
        assertTrue(IpvsKernelPreparation.versionAtLeast("5.9", 5, 9));
        assertFalse(IpvsKernelPreparation.versionAtLeast("5.4.0-150-generic", 5, 9));
        assertFalse(IpvsKernelPreparation.versionAtLeast("4.19", 5, 9));
        assertFalse(IpvsKernelPreparation.versionAtLeast("unknown", 5, 9), "unreadable counts as old, so conn_reuse_mode=0 is written");
    }

    @Test
    void onlyProtocolNotAvailableMeansNoIpvsInTheKernel() {
        assertTrue(IpvsKernelPreparation.noIpvsInKernel("Can't initialize ipvs: Protocol not available\n"));
        assertFalse(IpvsKernelPreparation.noIpvsInKernel("Can't initialize ipvs: Permission denied (you must be root)\n"));
    }
}
