package io.kubeferry.proxy.scheduler;

import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.dataplane.SchedulerInForce.Why;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ServicePort;
import org.junit.jupiter.api.Test;

import static io.kubeferry.proxy.testing.Fixtures.port;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Why a port got its algorithm, as /debug/state and render show it. */
class SchedulerCatalogTest {

    private static final SchedulerProvider ALL = SchedulerAlgorithms.builtIn().provider(name -> true);

    private static ServicePort asking(String scheduler) {
        var builder = port("ns", "web", "", Protocol.TCP, "198.19.0.1", 80);
        return (scheduler == null ? builder : builder.option(SchedulerCatalog.SCHEDULER_KEY, scheduler)).build();
    }

    private static SchedulerInForce inForce(SchedulerCatalog catalog, ServicePort port) {
        return catalog.inForce(port, catalog.choose(port));
    }

    @Test
    void annotationNodeDefaultModeDefaultOrFallbackWithItsReason() {
        SchedulerCatalog nodeRr = SchedulerCatalog.forNode("iptables", ALL, "rr", "random");
        assertEquals("maglev (annotation)", inForce(nodeRr, asking("maglev")).describe());
        assertEquals("rr (node-default)", inForce(nodeRr, asking(null)).describe());
        assertEquals("rr (node-default)", inForce(nodeRr, asking(" ")).describe(), "a blank annotation asks for nothing");
        assertEquals(
                new SchedulerInForce("rr", java.util.Set.of(), Why.FALLBACK,
                        "scheduler \"wlc\" is not available on this node; using \"rr\""),
                inForce(nodeRr, asking("wlc")));

        assertEquals("random (mode-default)", inForce(SchedulerCatalog.forNode("iptables", ALL, "", "random"), asking(null)).describe());
        assertEquals("random (mode-default)", inForce(SchedulerCatalog.forNode("iptables", ALL, "nope", "random"), asking(null)).describe(),
                "a node default the mode lacks is not the node's default in force");
    }

    @Test
    void aChoiceADataplaneFellBackToLaterIsAFallback() {
        SchedulerCatalog catalog = SchedulerCatalog.forNode("iptables", ALL, "", "random");
        SchedulerChoice failed = new SchedulerChoice(new Scheduler("random", java.util.Set.of()),
                java.util.Optional.of("scheduler \"x\" failed (boom); using \"random\""));
        assertEquals("random (fallback: scheduler \"x\" failed (boom); using \"random\")", catalog.inForce(asking("x"), failed).describe());
    }

    @Test
    void aStatesPortsAtOnceForAModeWhoseCatalogChoiceIsFinal() {
        SchedulerCatalog randomOnly = SchedulerCatalog.forNode("nftables", SchedulerAlgorithms.builtIn().provider("random"::equals), "",
                "random");
        var plain = port("ns", "plain", "", Protocol.TCP, "198.19.0.1", 80).resolve();
        var rr = port("ns", "rr", "", Protocol.TCP, "198.19.0.2", 80).option(SchedulerCatalog.SCHEDULER_KEY, "rr").resolve();
        var inForce = randomOnly.inForce(io.kubeferry.proxy.testing.Fixtures.state(plain, rr));
        assertEquals("random (mode-default)", inForce.get(plain.name()).describe());
        assertEquals("random (fallback: scheduler \"rr\" is not available on this node; using \"random\")",
                inForce.get(rr.name()).describe());
    }
}
