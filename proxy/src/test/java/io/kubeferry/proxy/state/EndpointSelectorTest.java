package io.kubeferry.proxy.state;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.NodeInfo;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Node-local endpoint choice as a table: upstream's CategorizeEndpoints cases. */
class EndpointSelectorTest {

    private static final NodeInfo NODE = new NodeInfo("node-a", Map.of(NodeInfo.ZONE_LABEL, "zone-a"), true);

    /** ip, ready, serving, terminating, local, zone hints, node hints. */
    private static Endpoint ep(String ip, boolean ready, boolean serving, boolean terminating, boolean local, Set<String> zones,
            Set<String> nodes) {
        return new Endpoint(ip, 80, ready, serving, terminating, local ? "node-a" : "node-b", "", zones, nodes, local);
    }

    private static Endpoint ready(String ip, boolean local) {
        return ep(ip, true, true, false, local, Set.of(), Set.of());
    }

    private static Endpoint terminating(String ip, boolean local) {
        return ep(ip, false, true, true, local, Set.of(), Set.of());
    }

    private static Endpoint zoned(String ip, String zone) {
        return ep(ip, true, true, false, false, Set.of(zone), Set.of());
    }

    private static ServicePort port(boolean internalLocal, boolean externalLocal, boolean nodePort) {
        Fixtures.PortBuilder b = Fixtures.port("ns", "svc", "", Protocol.TCP, "198.19.0.1", 80);
        if (internalLocal) {
            b.internalLocal();
        }
        if (nodePort) {
            b.nodePort(30000);
        }
        if (externalLocal) {
            b.externalLocal(0);
        }
        return b.build();
    }

    static Stream<Arguments> cases() {
        ServicePort cluster = port(false, false, false);
        ServicePort itpLocal = port(true, false, false);
        ServicePort etpLocal = port(false, true, true);
        return Stream.of(
                Arguments.of("ready endpoints serve cluster traffic", cluster,
                        List.of(ready("10.0.0.1", false), ready("10.0.0.2", true)), List.of("10.0.0.1", "10.0.0.2"), List.of(), true),
                Arguments.of("not-ready endpoints are skipped", cluster,
                        List.of(ready("10.0.0.1", false), ep("10.0.0.2", false, false, false, false, Set.of(), Set.of())),
                        List.of("10.0.0.1"), List.of(), true),
                Arguments.of("terminating ones are ignored while a ready one exists", cluster,
                        List.of(ready("10.0.0.1", false), terminating("10.0.0.2", false)), List.of("10.0.0.1"), List.of(), true),
                Arguments.of("no ready endpoint: fall back to serving+terminating", cluster,
                        List.of(terminating("10.0.0.1", false), ep("10.0.0.2", false, false, true, false, Set.of(), Set.of())),
                        List.of("10.0.0.1"), List.of(), true),
                Arguments.of("nothing usable at all", cluster,
                        List.of(ep("10.0.0.1", false, false, true, false, Set.of(), Set.of())), List.of(), List.of(), false),
                Arguments.of("no endpoints", cluster, List.of(), List.of(), List.of(), false),
                Arguments.of("internalTrafficPolicy Local uses only local endpoints", itpLocal,
                        List.of(ready("10.0.0.1", false), ready("10.0.0.2", true)), List.of(), List.of("10.0.0.2"), true),
                Arguments.of("itp Local without local endpoints: none, but the Service has endpoints", itpLocal,
                        List.of(ready("10.0.0.1", false)), List.of(), List.of(), true),
                Arguments.of("itp Local falls back to local serving+terminating", itpLocal,
                        List.of(ready("10.0.0.1", false), terminating("10.0.0.2", true)), List.of(), List.of("10.0.0.2"), true),
                Arguments.of("externalTrafficPolicy Local: cluster for internal, local for external", etpLocal,
                        List.of(ready("10.0.0.1", false), ready("10.0.0.2", true)), List.of("10.0.0.1", "10.0.0.2"), List.of("10.0.0.2"),
                        true),
                Arguments.of("zone hints: only this zone's endpoints", cluster,
                        List.of(zoned("10.0.0.1", "zone-a"), zoned("10.0.0.2", "zone-b")), List.of("10.0.0.1"), List.of(), true),
                Arguments.of("zone hints ignored when one endpoint lacks hints", cluster,
                        List.of(zoned("10.0.0.1", "zone-a"), ready("10.0.0.2", false)), List.of("10.0.0.1", "10.0.0.2"), List.of(), true),
                Arguments.of("zone hints ignored when none names this zone", cluster,
                        List.of(zoned("10.0.0.1", "zone-c"), zoned("10.0.0.2", "zone-b")), List.of("10.0.0.1", "10.0.0.2"), List.of(),
                        true),
                Arguments.of("node hints (PreferSameNode) win over zone hints", cluster,
                        List.of(ep("10.0.0.1", true, true, false, true, Set.of("zone-a"), Set.of("node-a")),
                                ep("10.0.0.2", true, true, false, false, Set.of("zone-a"), Set.of("node-b"))),
                        List.of("10.0.0.1"), List.of(), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void categorize(String name, ServicePort port, List<Endpoint> endpoints, List<String> cluster, List<String> local, boolean hasAny) {
        ResolvedService r = EndpointSelector.categorize(port, endpoints, NODE);
        assertEquals(cluster, r.clusterEndpoints().stream().map(Endpoint::ip).toList(), "cluster endpoints");
        assertEquals(local, r.localEndpoints().stream().map(Endpoint::ip).toList(), "local endpoints");
        assertEquals(hasAny, r.hasAnyEndpoints(), "hasAnyEndpoints");
    }
}
