package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ipvs.scheduler is checked at start-up, as upstream's validation does, against the schedulers IPVS has. */
class IpvsDataplaneProviderTest {

    private static ProxyConfig scheduler(String mode, String name) {
        ProxyConfig c = ProxyConfig.defaults().withMode(mode);
        ProxyConfig.Ipvs v = c.ipvs();
        return c.withIpvs(new ProxyConfig.Ipvs(name, v.syncPeriod(), v.minSyncPeriod(), v.excludeCIDRs(), v.strictARP(),
                Duration.ZERO, Duration.ZERO, Duration.ZERO));
    }

    @Test
    void everyKnownSchedulerAndEmptyPass() throws ConfigException {
        for (String name : List.of("", "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq", "mh", "fo", "ovf", "twos", " sh ")) {
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

    /** The start-up tool check asks the providers, without building a dataplane: each mode names its own programs. */
    @Test
    void eachModeNamesTheProgramsItRuns() {
        List<String> ipvs = DataplaneProvider.forMode("ipvs").requiredTools();
        List<String> iptables = DataplaneProvider.forMode("iptables").requiredTools();
        assertTrue(ipvs.containsAll(List.of("ipvsadm", "ipset", "iptables-restore")), ipvs.toString());
        assertTrue(iptables.contains("iptables-restore") && !iptables.contains("ipvsadm"), iptables.toString());
    }
}
