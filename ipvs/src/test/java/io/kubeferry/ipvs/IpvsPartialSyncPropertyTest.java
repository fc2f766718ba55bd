package io.kubeferry.ipvs;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.testing.partial.PartialSyncProperty;
import io.kubeferry.proxy.testing.partial.PartialSyncTarget;
import io.kubeferry.proxy.testing.trace.PacketScenario;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Partial syncs of random histories end where one full sync of the final objects ends (IPVS mode). */
class IpvsPartialSyncPropertyTest {

    static PartialSyncTarget fresh() {
        FakeIpvsKernel kernel = new FakeIpvsKernel();
        PacketScenario churn = new PacketScenario("churn", false, List.of(), List.of());
        Dataplane dataplane = IpvsPacketPathTest.dataplane(churn, kernel);
        // A TCP real server a partial sync removed stays at weight 0 until its connections are gone (graceful
        // termination); the fake has no connections, so the agent's periodic housekeeping deletes it.
        return new PartialSyncTarget(dataplane, dataplane::housekeeping, () -> kernelState(kernel),
                () -> IpvsPacketPathTest.tracer(churn, kernel));
    }

    /**
     * Virtual servers, their real servers, ipsets, kube-ipvs0's addresses and the iptables tables. Only listing
     * order is normalised (the fake keeps insertion order, the kernel a hash order); every rule chain keeps its
     * order, as IPVS mode writes its chains whole.
     */
    static String kernelState(FakeIpvsKernel kernel) {
        StringBuilder out = new StringBuilder("*ipvs\n");
        new TreeMap<>(kernel.services).forEach((key, line) -> {
            out.append(':').append(line).append('\n');
            new TreeSet<>(kernel.reals.getOrDefault(key, Map.of()).values()).forEach(r -> out.append(r).append('\n'));
        });
        out.append("*ipset\n");
        kernel.ipsets.forEach((name, members) -> {
            out.append(':').append(name).append('\n');
            members.forEach(m -> out.append(m).append('\n'));
        });
        out.append("*links\n");
        kernel.links.forEach((name, addresses) -> out.append(':').append(name).append(' ').append(addresses).append('\n'));
        return out + PartialSyncProperty.iptablesState(kernel.netfilter, Set.of());
    }

    @Test
    void twoHundredRandomHistories() throws Exception {
        PartialSyncProperty.check("ipvs", IpvsPartialSyncPropertyTest::fresh, 200, 1);
    }
}
