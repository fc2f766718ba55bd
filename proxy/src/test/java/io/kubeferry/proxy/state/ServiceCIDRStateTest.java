package io.kubeferry.proxy.state;

import ch.qos.logback.classic.Level;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDRBuilder;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.testing.LogCapture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ServiceCIDR objects to the state's ServiceCIDRs: conversion, validation, the union and its changes. */
class ServiceCIDRStateTest {

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final ClusterState state = new ClusterState("node-a", "", Set.of(), metrics);

    static ServiceCIDR serviceCIDR(String name, String... cidrs) {
        return new ServiceCIDRBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().withCidrs(cidrs).endSpec().build();
    }

    private List<String> cidrs() {
        return state.take().state().serviceCIDRs().stream().map(Cidr::toString).toList();
    }

    private double skipped(String reason) {
        var counter = metrics.find("kubeferry.objects.skipped").tags("kind", "ServiceCIDR", "reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aDualStackServiceCIDRGivesBothBlocksAndEachFamilysStateItsOwn() {
        ServiceCIDRConverter.Result result = ServiceCIDRConverter.convert(serviceCIDR("kubernetes", "198.19.0.0/16", "fd00:10::/108"));
        assertEquals(List.of(Cidr.parse("198.19.0.0/16"), Cidr.parse("fd00:10::/108")), result.cidrs());
        assertEquals(List.of(), result.problems(), "the IPv6 block is not a problem of the object");

        assertTrue(state.onServiceCIDR(serviceCIDR("kubernetes", "198.19.0.0/16", "fd00:10::/108")));
        assertTrue(state.onServiceCIDR(serviceCIDR("extra", "2001:db8:1::/112")));
        StateSource.Snapshot snapshot = state.take();
        assertEquals(List.of(Cidr.parse("198.19.0.0/16")), snapshot.state(IpFamily.IPv4).serviceCIDRs());
        assertEquals(List.of(Cidr.parse("2001:db8:1::/112"), Cidr.parse("fd00:10::/108")), snapshot.state(IpFamily.IPv6).serviceCIDRs());
        assertEquals(List.of(Cidr.parse("198.19.0.0/16"), Cidr.parse("2001:db8:1::/112"), Cidr.parse("fd00:10::/108")),
                state.serviceCIDRs());
        assertTrue(state.onServiceCIDRDeleted(serviceCIDR("extra")), "an IPv6 block gone is a change too");
        assertEquals(List.of(Cidr.parse("fd00:10::/108")), state.take().state(IpFamily.IPv6).serviceCIDRs());
    }

    @Test
    void anIPv6BlockMustBeInCanonicalFormAsTheApiServerRequires() {
        ServiceCIDRConverter.Result result = ServiceCIDRConverter.convert(serviceCIDR("odd", "2001:DB8:1::/112", "2001:db8:1::5/112",
                "2001:db8:2::/112"));
        assertEquals(List.of(Cidr.parse("2001:db8:2::/112")), result.cidrs());
        assertEquals(List.of(
                ObjectProblem.drop("invalid-cidr",
                        "spec.cidrs[0] \"2001:DB8:1::/112\" dropped: must be in canonical form (\"2001:db8:1::/112\")"),
                ObjectProblem.drop("invalid-cidr",
                        "spec.cidrs[1] \"2001:db8:1::5/112\" dropped: must be in canonical form (\"2001:db8:1::/112\")")),
                result.problems());
    }

    @Test
    void malformedEntriesAreDroppedWithAReasonAndTheRestKept() {
        ServiceCIDRConverter.Result result = ServiceCIDRConverter.convert(serviceCIDR("odd", "198.19.0.1/16", "bogus", "10.96.0.0/12"));
        assertEquals(List.of(Cidr.parse("10.96.0.0/12")), result.cidrs());
        assertEquals(List.of(
                ObjectProblem.drop("invalid-cidr",
                        "spec.cidrs[0] \"198.19.0.1/16\" dropped: must be in canonical form (\"198.19.0.0/16\")"),
                ObjectProblem.drop("invalid-cidr", "spec.cidrs[1] \"bogus\" dropped: must be a CIDR such as 198.19.0.0/16")),
                result.problems());
        assertEquals(List.of(ObjectProblem.skip("no-cidrs", "spec.cidrs is empty")),
                ServiceCIDRConverter.convert(new ServiceCIDRBuilder().withNewMetadata().withName("empty").endMetadata().build())
                        .problems());
    }

    @Test
    void theStateCarriesTheUnionOnceEachInAscendingOrderAndSaysWhenItChanged() {
        assertEquals(List.of(), cidrs(), "none before any ServiceCIDR");
        assertTrue(state.onServiceCIDR(serviceCIDR("kubernetes", "198.19.0.0/16")));
        assertTrue(state.onServiceCIDR(serviceCIDR("extra", "10.96.0.0/12")));
        assertFalse(state.onServiceCIDR(serviceCIDR("same", "198.19.0.0/16")), "a block another object has: the set is the same");
        assertEquals(List.of("10.96.0.0/12", "198.19.0.0/16"), cidrs());
        assertFalse(state.onServiceCIDR(serviceCIDR("extra", "10.96.0.0/12")), "a resync of an unchanged object changes nothing");

        // Upstream's set of strings would lose 198.19.0.0/16 here although "same" still names it.
        assertFalse(state.onServiceCIDRDeleted(serviceCIDR("kubernetes", "198.19.0.0/16")));
        assertEquals(List.of("10.96.0.0/12", "198.19.0.0/16"), cidrs());
        assertTrue(state.onServiceCIDRDeleted(serviceCIDR("same")));
        assertTrue(state.onServiceCIDR(serviceCIDR("extra", "10.100.0.0/16")), "a changed block replaces the old one");
        assertEquals(List.of("10.100.0.0/16"), cidrs());
    }

    @Test
    void beingDeletedOrNotReadyStillCounts() {
        // Upstream filters on neither: addresses of a ServiceCIDR held by its finalizer are still allocated.
        ServiceCIDR terminating = new ServiceCIDRBuilder(serviceCIDR("old", "198.19.0.0/16")).editMetadata()
                .withDeletionTimestamp("2026-12-01T00:00:00Z").addToFinalizers("networking.k8s.io/service-cidr-finalizer").endMetadata()
                .withNewStatus().addToConditions(new ConditionBuilder().withType("Ready").withStatus("False").withReason("Terminating")
                        .withMessage("").withLastTransitionTime("2026-12-01T00:00:00Z").build())
                .endStatus().build();
        assertTrue(state.onServiceCIDR(terminating));
        assertEquals(List.of("198.19.0.0/16"), cidrs());
    }

    @Test
    void aServiceCIDRLabelledForAnotherProxyIsNotReadAsTheInformerSelectorWouldNot() {
        state.onServiceCIDR(serviceCIDR("kubernetes", "198.19.0.0/16"));
        ServiceCIDR labelled = new ServiceCIDRBuilder(serviceCIDR("kubernetes", "198.19.0.0/16")).editMetadata()
                .addToLabels(ServiceConverter.SERVICE_PROXY_NAME, "other").endMetadata().build();
        assertTrue(state.onServiceCIDR(labelled));
        assertEquals(List.of(), cidrs());
    }

    @Test
    void aMalformedServiceCIDRIsReportedOncePerChangeWithTheSkippedMetric() {
        List<String> first;
        try (LogCapture log = new LogCapture(ClusterState.class)) {
            state.onServiceCIDR(serviceCIDR("bad", "198.19.0.1/16"));
            state.onServiceCIDR(serviceCIDR("bad", "198.19.0.1/16"));
            first = log.lines(Level.WARN);
        }
        assertEquals(1, first.size(), first.toString());
        assertTrue(first.get(0).startsWith("ServiceCIDR bad: spec.cidrs[0] \"198.19.0.1/16\" dropped"), first.get(0));
        assertEquals(1.0, skipped("invalid-cidr"));
        assertEquals(List.of(), cidrs());
        assertEquals(1, state.skipped().size());
        state.onServiceCIDRDeleted(serviceCIDR("bad"));
        assertEquals(List.of(), state.skipped(), "forgotten once deleted");
    }

    @Test
    void renderReadsServiceCIDRsFromFilesToo() {
        StaticState.Result built = StaticState.build(List.of(serviceCIDR("kubernetes", "198.19.0.0/16")), "node-a", "");
        assertEquals(List.of(Cidr.parse("198.19.0.0/16")), built.state().serviceCIDRs());
        assertEquals(List.of(), built.skipped());
    }
}
