package io.kubeferry.iptables;

import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.testing.Fixtures;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chain names must equal upstream kube-proxy's bit for bit; the expected values are upstream's own test data. */
class ChainNamesTest {

    private final ChainNames names = new ChainNames(100);

    @Test
    void servicePortChainsMatchUpstream() {
        ChainNames.PortChains chains = names.of(new ServicePortName("ns1", "svc1", "p80", Protocol.TCP));
        assertEquals("KUBE-SVC-XPGD46QRK7WJZT7O", chains.cluster());
        assertEquals("KUBE-SVL-XPGD46QRK7WJZT7O", chains.local());
        assertEquals("KUBE-EXT-XPGD46QRK7WJZT7O", chains.external());
        assertEquals("KUBE-FW-XPGD46QRK7WJZT7O", chains.firewall());
    }

    @Test
    void endpointChainMatchesUpstream() {
        ServicePortName name = new ServicePortName("ns1", "svc1", "p80", Protocol.TCP);
        assertEquals("KUBE-SEP-SXIVWICOYRO3J4NJ", names.endpoint(name, Fixtures.endpoint("10.180.0.1", 80)));
    }

    @Test
    void chainNamesFitIptablesLimit() {
        ServicePortName name = new ServicePortName("a-very-long-namespace-name", "and-a-very-long-service-name", "https", Protocol.SCTP);
        assertTrue(names.of(name).cluster().length() <= 28);
        assertTrue(names.endpoint(name, Fixtures.endpoint("198.18.200.200", 65535)).length() <= 28);
    }
}
