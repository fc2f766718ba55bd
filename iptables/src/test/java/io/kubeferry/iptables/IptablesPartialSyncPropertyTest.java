package io.kubeferry.iptables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.partial.PartialSyncProperty;
import io.kubeferry.proxy.testing.partial.PartialSyncTarget;
import io.kubeferry.proxy.testing.trace.PacketScenario;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

/** Partial syncs of random histories end where one full sync of the final objects ends (iptables mode). */
class IptablesPartialSyncPropertyTest {

    /**
     * A partial sync edits these chains in place, inserting a changed Service's rules at the head, so their
     * order depends on the history (README: "edits KUBE-SERVICES in place"). Each rule in them matches one
     * Service port's own address and port, so the order carries no meaning, except that the NodePort catch-all
     * stays last; the packet probes check the rest.
     */
    static final Set<String> EDITED_IN_PLACE = Set.of("nat/KUBE-SERVICES", "nat/KUBE-NODEPORTS", "filter/KUBE-SERVICES",
            "filter/KUBE-EXTERNAL-SERVICES", "filter/KUBE-NODEPORTS", "filter/KUBE-PROXY-FIREWALL");

    static PartialSyncTarget fresh() {
        FakeNetfilter kernel = new FakeNetfilter();
        PacketScenario churn = new PacketScenario("churn", false, List.of(), List.of());
        Dataplane dataplane = IptablesPacketPathTest.dataplane(churn, kernel);
        return new PartialSyncTarget(dataplane, PartialSyncTarget.Settle.NOTHING,
                () -> PartialSyncProperty.iptablesState(kernel, EDITED_IN_PLACE), () -> IptablesPacketPathTest.tracer(churn, kernel));
    }

    /** Histories that include Services with both traffic policies Local reachable from outside. */
    @Test
    void twoHundredRandomHistories() throws Exception {
        PartialSyncProperty.check("iptables", IptablesPartialSyncPropertyTest::fresh, 200, 1);
    }
}
