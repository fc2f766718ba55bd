package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.conntrack.ConntrackChanges.ChangedService;
import io.kubeferry.proxy.conntrack.ConntrackChanges.ServiceEndpoint;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConntrackChangesTest {

    private static final Endpoint A = endpoint("198.18.0.11", 8080);
    private static final Endpoint B = endpoint("198.18.0.12", 8080);
    private static final Endpoint C = endpoint("198.18.0.13", 8080);

    static Endpoint terminating(Endpoint ep) {
        return new Endpoint(ep.ip(), ep.port(), false, true, true, ep.nodeName(), ep.zone(), ep.zoneHints(), ep.nodeHints(), ep.local());
    }

    static Endpoint unready(Endpoint ep) {
        return new Endpoint(ep.ip(), ep.port(), false, false, false, ep.nodeName(), ep.zone(), ep.zoneHints(), ep.nodeHints(), ep.local());
    }

    private static ResolvedService web(Endpoint... eps) {
        return port("ns", "web", "", Protocol.TCP, "198.19.0.10", 80).nodePort(30080).resolve(eps);
    }

    private static ResolvedService dns(Endpoint... eps) {
        return port("kube-system", "dns", "dns", Protocol.UDP, "198.19.0.53", 53).resolve(eps);
    }

    private static List<String> removed(ConntrackChanges c) {
        return c.removedEndpoints().stream().map(r -> r.service().name() + " " + r.endpoint().hostPort()).toList();
    }

    private static List<String> added(ConntrackChanges c) {
        return c.addedEndpoints().stream().map(r -> r.service().name() + " " + r.endpoint().hostPort()).toList();
    }

    @Test
    void endpointsRemovedAndAddedPerServicePortWithTheirLastConditions() {
        ProxyState before = state(web(A, B), dns(A));
        ProxyState after = state(web(terminating(A), C), dns(A));
        ConntrackChanges c = ConntrackChanges.between(before, after);
        assertEquals(List.of("ns/web 198.18.0.12:8080"), removed(c));
        assertEquals(List.of("ns/web 198.18.0.13:8080"), added(c));
        ServiceEndpoint b = c.removedEndpoints().get(0);
        assertFalse(b.terminating());
        assertTrue(b.endpoint().serving());
        // A started terminating: still listed, so not removed (its flows drain).
        assertTrue(c.removedServices().isEmpty() && c.changedServices().isEmpty() && c.addedServices().isEmpty());
    }

    @Test
    void aTerminatingEndpointThatGoesIsRemovedAsTerminating() {
        ConntrackChanges c = ConntrackChanges.between(state(web(terminating(A), B)), state(web(B)));
        assertEquals(1, c.removedEndpoints().size());
        assertTrue(c.removedEndpoints().get(0).terminating());
    }

    @Test
    void anEndpointThatTurnsUnreadyIsNotRemoved() {
        ConntrackChanges c = ConntrackChanges.between(state(web(A, B)), state(web(unready(A), B)));
        assertTrue(c.isEmpty(), c.toString());
    }

    @Test
    void aRemovedServiceTakesItsEndpointsAlongAndAnAddedOneBringsThem() {
        ConntrackChanges c = ConntrackChanges.between(state(web(A, B)), state(dns(C)));
        assertEquals(List.of("ns/web"), c.removedServices().stream().map(p -> p.name().toString()).toList());
        assertEquals(List.of("ns/web 198.18.0.11:8080", "ns/web 198.18.0.12:8080"), removed(c));
        assertEquals(List.of("kube-system/dns:dns"), c.addedServices().stream().map(p -> p.name().toString()).toList());
        assertEquals(List.of("kube-system/dns:dns 198.18.0.13:8080"), added(c));
    }

    @Test
    void changedAddressesAreReportedWithWhatWasLost() {
        ResolvedService moved = port("ns", "web", "", Protocol.TCP, "198.19.0.10", 80).nodePort(30081).externalIP("198.19.100.1")
                .resolve(A, B);
        ConntrackChanges c = ConntrackChanges.between(state(web(A, B)), state(moved));
        assertEquals(1, c.changedServices().size());
        ChangedService changed = c.changedServices().get(0);
        assertEquals(Set.of(":30080"), changed.lostAddresses());
        assertTrue(c.removedEndpoints().isEmpty());
        // Endpoints alone changing is no Service change.
        assertTrue(ConntrackChanges.between(state(web(A)), state(web(B))).changedServices().isEmpty());
    }

    @Test
    void perProtocol() {
        ConntrackChanges c = ConntrackChanges.between(state(web(A), dns(A)), state());
        assertEquals(List.of("kube-system/dns:dns 198.18.0.11:8080"), removed(c.only(Protocol.UDP)));
        assertEquals(List.of("ns/web 198.18.0.11:8080"), removed(c.only(Protocol.TCP)));
        assertTrue(c.only(Protocol.SCTP).isEmpty());
    }

    @Test
    void mergedChangesEqualTheNetChangeButKeepTransientEndpointsRemoved() {
        ProxyState s0 = state(web(A, B));
        ProxyState s1 = state(web(A, C)); // B removed, C added
        ProxyState s2 = state(web(A, B)); // C removed (transient), B back
        ConntrackChanges merged = ConntrackChanges.between(s0, s1).then(ConntrackChanges.between(s1, s2), s0, s2);
        // C existed only in between: flows may have reached it, so it is removed; B came back: neither.
        assertEquals(List.of("ns/web 198.18.0.13:8080"), removed(merged));
        assertEquals(List.of(), added(merged));
    }

    @Test
    void mergingIsAssociativeOverARun() {
        ProxyState[] states = {state(web(A)), state(web(A, B), dns(C)), state(dns(C)), state(web(C), dns(A, C)),
                state(web(C, B))};
        ConntrackChange left = step(states, 1);
        for (int i = 2; i < states.length; i++) {
            left = left.then(step(states, i));
        }
        ConntrackChange right = step(states, states.length - 1);
        for (int i = states.length - 2; i >= 1; i--) {
            right = step(states, i).then(right);
        }
        assertEquals(left.changes(), right.changes());
        assertEquals(4, left.syncs());
        // The net additions are exactly the net diff's; web's A went for good, dns came and went (both removals).
        assertEquals(added(ConntrackChanges.between(states[0], states[4])), added(left.changes()));
        assertEquals(List.of("kube-system/dns:dns 198.18.0.11:8080", "kube-system/dns:dns 198.18.0.13:8080", "ns/web 198.18.0.11:8080"),
                removed(left.changes()));
    }

    private static ConntrackChange step(ProxyState[] states, int i) {
        return new ConntrackChange(states[i - 1], states[i], Set.of(), false);
    }

    @Test
    void aServiceRemovedAndRecreatedWithOtherAddressesIsAChange() {
        ResolvedService recreated = port("ns", "web", "", Protocol.TCP, "198.19.0.99", 80).resolve(A);
        ConntrackChanges merged = new ConntrackChange(state(web(A)), state(), Set.of(), false)
                .then(new ConntrackChange(state(), state(recreated), Set.of(), false)).changes();
        assertTrue(merged.removedServices().isEmpty() && merged.addedServices().isEmpty(), merged.toString());
        assertEquals(1, merged.changedServices().size());
        assertTrue(merged.changedServices().get(0).lostAddresses().contains("198.19.0.10:80"));
    }

    @Test
    void aChangeRecordsTheStatesAndCountsTheSyncsItCovers() {
        ProxyState s0 = state(web(A));
        ProxyState s1 = state(web(B));
        ProxyState s2 = state(web(C));
        ConntrackChange one = new ConntrackChange(s0, s1, Set.of(), false);
        ConntrackChange two = one.then(new ConntrackChange(s1, s2, Set.of(), true));
        assertEquals(2, two.syncs());
        assertTrue(two.full());
        assertEquals(s0, two.previous());
        assertEquals(s2, two.current());
        assertEquals(List.of("ns/web 198.18.0.11:8080", "ns/web 198.18.0.12:8080"), removed(two.changes()));
        ServicePort kept = two.changes().addedEndpoints().get(0).service();
        assertEquals(30080, kept.nodePort());
    }
}
