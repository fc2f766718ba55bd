package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.KubeProxyConfigurationLoader;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ipvs section is checked at start-up in IPVS mode only, as upstream's validation does: ipvs.scheduler against
 * the schedulers IPVS has, excludeCIDRs, the timeouts.
 */
class IpvsDataplaneProviderTest {

    private static ProxyConfig scheduler(String mode, String name) {
        ProxyConfig c = ProxyConfig.defaults().withMode(mode);
        ProxyConfig.Ipvs v = c.ipvs();
        return c.withIpvs(new ProxyConfig.Ipvs(name, v.syncPeriod(), v.minSyncPeriod(), v.excludeCIDRs(), v.strictARP(),
                Duration.ZERO, Duration.ZERO, Duration.ZERO));
    }

    @Test
    void everyKnownSchedulerAndEmptyPass() throws ConfigException {
        for (String name : List.of("", "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq", "mh", "fo", "ovf", "twos",
                " sh ")) {
            DataplaneProvider.validateMode(scheduler("ipvs", name));
        }
    }

    @Test
    void aTypoFailsNamingTheFieldAndTheKnownNames() {
        ConfigException e = assertThrows(ConfigException.class, () -> DataplaneProvider.validateMode(scheduler("ipvs", "nonsense")));
        assertEquals("ipvs.scheduler: unknown scheduler \"nonsense\"; known: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo,"
                + " ovf, twos (empty means rr)", e.getMessage());
        assertThrows(ConfigException.class, () -> DataplaneProvider.validateMode(scheduler("ipvs", "RR")), "names are case-sensitive");
    }

    @Test
    void iptablesModeDoesNotReadTheIpvsSection() throws ConfigException {
        // As upstream: the IPVS section is validated only when IPVS mode is chosen.
        DataplaneProvider.validateMode(scheduler("iptables", "nonsense"));
    }

    private static ProxyConfig ipvsSection(String mode, List<String> excludeCIDRs, Duration tcp, Duration tcpFin, Duration udp) {
        ProxyConfig c = ProxyConfig.defaults().withMode(mode);
        ProxyConfig.Ipvs v = c.ipvs();
        return c.withIpvs(new ProxyConfig.Ipvs(v.scheduler(), v.syncPeriod(), v.minSyncPeriod(), excludeCIDRs, v.strictARP(),
                tcp, tcpFin, udp));
    }

    /** excludeCIDRs and the timeouts are IPVS mode's to check, with the messages the core used to give. */
    @Test
    void ipvsModeChecksExcludeCIDRsAndTimeouts() throws ConfigException {
        Duration zero = Duration.ZERO;
        Duration negative = Duration.ofSeconds(-1);
        DataplaneProvider.validateMode(ipvsSection("ipvs", List.of("198.19.99.0/24", "fd00::/8"), Duration.ofMinutes(15), zero, zero));
        ConfigException cidr = assertThrows(ConfigException.class,
                () -> DataplaneProvider.validateMode(ipvsSection("ipvs", List.of("198.19.99.0/24", "198.19.0.0/40"), zero, zero, zero)));
        assertTrue(cidr.getMessage().startsWith("ipvs.excludeCIDRs: "), cidr.getMessage());
        assertEquals("ipvs.tcpTimeout: must be greater than or equal to 0", assertThrows(ConfigException.class,
                () -> DataplaneProvider.validateMode(ipvsSection("ipvs", List.of(), negative, zero, zero))).getMessage());
        assertEquals("ipvs.tcpFinTimeout: must be greater than or equal to 0", assertThrows(ConfigException.class,
                () -> DataplaneProvider.validateMode(ipvsSection("ipvs", List.of(), zero, negative, zero))).getMessage());
        assertEquals("ipvs.udpTimeout: must be greater than or equal to 0", assertThrows(ConfigException.class,
                () -> DataplaneProvider.validateMode(ipvsSection("ipvs", List.of(), zero, zero, negative))).getMessage());
    }

    @Test
    void otherModesDoNotCheckTheIpvsSection() throws ConfigException {
        // Upstream's validation switches on the mode: the ipvs section is not looked at in iptables or nftables mode.
        ProxyConfig bad = ipvsSection("iptables", List.of("not-a-cidr"), Duration.ofSeconds(-1), Duration.ofSeconds(-1),
                Duration.ofSeconds(-1));
        KubeProxyConfigurationLoader.validate(bad);
        DataplaneProvider.validateMode(bad);
    }

    /** The start-up tool check asks the providers, without building a dataplane: each mode names its own programs. */
    @Test
    void eachModeNamesTheProgramsItRuns() {
        List<String> ipvs = DataplaneProvider.forMode("ipvs").requiredTools();
        List<String> iptables = DataplaneProvider.forMode("iptables").requiredTools();
        assertTrue(ipvs.containsAll(List.of("ipvsadm", "ipset", "iptables-restore")), ipvs.toString());
        assertTrue(iptables.contains("iptables-restore") && !iptables.contains("ipvsadm"), iptables.toString());
    }

    /** IPv6's instance runs ip6tables where IPv4's runs iptables, so a node without ip6tables runs IPv4 alone. */
    @Test
    void ipv6NamesIp6tablesInsteadOfIptables() {
        List<String> six = DataplaneProvider.forMode("ipvs").requiredTools(io.kubeferry.proxy.model.IpFamily.IPv6);
        assertTrue(six.containsAll(List.of("ipvsadm", "ipset", "ip6tables-restore", "ip6tables-save", "ip6tables")), six.toString());
        assertTrue(six.stream().noneMatch(t -> t.startsWith("iptables")), six.toString());
        assertEquals(DataplaneProvider.forMode("ipvs").requiredTools(),
                DataplaneProvider.forMode("ipvs").requiredTools(io.kubeferry.proxy.model.IpFamily.IPv4));
    }
}
