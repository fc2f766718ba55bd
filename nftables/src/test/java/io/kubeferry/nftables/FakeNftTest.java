package io.kubeferry.nftables;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FakeNftTest {

    private static final String F = "ip";
    private static final String T = "kube-proxy";

    private final FakeNft nft = new FakeNft();

    private static NftTransaction tx() {
        return new NftTransaction(F, T);
    }

    /** A table with a chain, a verdict map pointing at it and a set used by a rule. */
    private void base() {
        nft.apply(tx().add(new NftObject.Table("rules for kube-proxy"))
                .add(NftObject.Chain.base("nat-prerouting", "nat", "prerouting", NftObject.Base.DSTNAT))
                .add(NftObject.Chain.regular("services"))
                .add(NftObject.Chain.regular("svc-a"))
                .add(NftObject.Container.map("service-ips", "ipv4_addr . inet_proto . inet_service : verdict", "dispatch"))
                .add(NftObject.Container.set("cluster-ips", "ipv4_addr", null))
                .add(NftObject.Rule.of("nat-prerouting", "jump services"))
                .add(NftObject.Rule.of("services", "ip daddr . meta l4proto . th dport vmap @service-ips"))
                .add(NftObject.Rule.of("services", "ip daddr @cluster-ips drop"))
                .add(NftObject.Element.ofMap("service-ips", List.of("172.30.0.1", "tcp", "80"), "goto svc-a", null)));
    }

    private FakeNft.Failure fails(String errno, NftTransaction t) {
        String before = nft.hasTable(F, T) ? nft.dump(F, T) : "";
        FakeNft.Failure e = assertThrows(FakeNft.Failure.class, () -> nft.apply(t));
        assertEquals(errno, e.errno(), e.getMessage());
        // Atomic: nothing of the failed transaction stays, not even its commands before the failing one.
        assertEquals(before, nft.hasTable(F, T) ? nft.dump(F, T) : "");
        return e;
    }

    @Test
    void missingTable() {
        fails("ENOENT", tx().add(NftObject.Chain.regular("x")));
    }

    @Test
    void missingChainForRule() {
        base();
        fails("ENOENT", tx().add(NftObject.Chain.regular("new")).add(NftObject.Rule.of("nope", "drop")));
        assertFalse(nft.chains(F, T).contains("new"));
    }

    @Test
    void jumpOrGotoToMissingChain() {
        base();
        fails("ENOENT", tx().add(NftObject.Rule.of("services", "jump nowhere")));
        fails("ENOENT", tx().add(NftObject.Rule.of("services", "numgen random mod 2 vmap { 0 : goto svc-a , 1 : goto nowhere }")));
        fails("ENOENT", tx().add(NftObject.Element.ofMap("service-ips", List.of("172.30.0.2", "tcp", "80"), "goto nowhere", null)));
        fails("EOPNOTSUPP", tx().add(NftObject.Rule.of("services", "jump nat-prerouting")));
    }

    @Test
    void missingSetOrMap() {
        base();
        fails("ENOENT", tx().add(NftObject.Rule.of("services", "ip saddr @nothing drop")));
        fails("ENOENT", tx().add(NftObject.Element.ofSet("nothing", "1.2.3.4")));
        fails("ENOENT", tx().flush(NftObject.Container.map("nothing", null, null)));
        fails("ENOENT", tx().delete(NftObject.Container.set("nothing", null, null)));
    }

    @Test
    void createOfExisting() {
        base();
        fails("EEXIST", tx().create(new NftObject.Table(null)));
        fails("EEXIST", tx().create(NftObject.Chain.regular("svc-a")));
        fails("EEXIST", tx().create(NftObject.Container.set("cluster-ips", "ipv4_addr", null)));
        nft.apply(tx().add(NftObject.Element.ofSet("cluster-ips", "172.30.0.1")));
        fails("EEXIST", tx().create(NftObject.Element.ofSet("cluster-ips", "172.30.0.1")));
        // add is idempotent where create is not
        nft.apply(tx().add(NftObject.Chain.regular("svc-a")).add(NftObject.Element.ofSet("cluster-ips", "172.30.0.1")));
    }

    @Test
    void mapElementWithAnotherValue() {
        base();
        nft.apply(tx().add(NftObject.Chain.regular("svc-b")));
        List<String> key = List.of("172.30.0.1", "tcp", "80");
        fails("EEXIST", tx().add(NftObject.Element.ofMap("service-ips", key, "goto svc-b", null)));
        // the same value again is fine; a changed verdict is delete then add
        nft.apply(tx().add(NftObject.Element.ofMap("service-ips", key, "goto svc-a", null)));
        nft.apply(tx().delete(new NftObject.Element(true, "service-ips", key, List.of(), null))
                .add(NftObject.Element.ofMap("service-ips", key, "goto svc-b", null)));
        assertEquals("goto svc-b", nft.elements(F, T, "service-ips").get("172.30.0.1 . tcp . 80"));
    }

    @Test
    void deleteOfReferencedChainOrSet() {
        base();
        fails("EBUSY", tx().delete(NftObject.Chain.regular("svc-a")));
        fails("EBUSY", tx().delete(NftObject.Chain.regular("services")));
        fails("EBUSY", tx().delete(NftObject.Container.set("cluster-ips", null, null)));
        // once the element is gone the chain can go, in the same transaction
        nft.apply(tx().delete(new NftObject.Element(true, "service-ips", List.of("172.30.0.1", "tcp", "80"), List.of(), null))
                .delete(NftObject.Chain.regular("svc-a")));
        assertFalse(nft.chains(F, T).contains("svc-a"));
    }

    @Test
    void deleteOfMissingObjects() {
        base();
        fails("ENOENT", tx().delete(NftObject.Chain.regular("nope")));
        fails("ENOENT", tx().delete(new NftObject.Element(false, "cluster-ips", List.of("9.9.9.9"), List.of(), null)));
        fails("ENOENT", tx().delete(new NftObject.Rule("services", null, null, 999L)));
        // destroy is delete that does not mind
        nft.apply(tx().destroy(NftObject.Chain.regular("nope"))
                .destroy(new NftObject.Element(false, "cluster-ips", List.of("9.9.9.9"), List.of(), null)));
    }

    @Test
    void baseChainPriorityCannotChangeInPlace() {
        base();
        fails("EOPNOTSUPP", tx().add(NftObject.Chain.base("nat-prerouting", "nat", "prerouting", -110)));
        // upstream's way: add and delete once, then add with the new priority
        nft.apply(tx().add(NftObject.Chain.regular("nat-prerouting"))
                .delete(NftObject.Chain.regular("nat-prerouting"))
                .add(NftObject.Chain.base("nat-prerouting", "nat", "prerouting", -110)));
        assertEquals(-110, nft.chain(F, T, "nat-prerouting").base().priority());
    }

    @Test
    void setFlagsCannotChangeButTheTimeoutCan() {
        base();
        nft.apply(tx().add(new NftObject.Container(false, "a", "ipv4_addr", List.of("dynamic", "timeout"), 60, null)));
        fails("EEXIST", tx().add(new NftObject.Container(false, "a", "ipv4_addr", List.of("timeout"), 60, null)));
        fails("EEXIST", tx().add(NftObject.Container.map("a", "ipv4_addr : verdict", null)));
        nft.apply(tx().add(new NftObject.Container(false, "a", "ipv4_addr", List.of("dynamic", "timeout"), 30, null)));
        assertEquals(30, nft.container(F, T, "a").timeoutSeconds());
    }

    @Test
    void keyMustMatchTheType() {
        base();
        fails("EINVAL", tx().add(NftObject.Element.ofMap("service-ips", List.of("172.30.0.9", "tcp"), "drop", null)));
        fails("EINVAL", tx().add(NftObject.Element.ofMap("service-ips", List.of("172.30.0.9", "tcp", "80"), "bogus", null)));
    }

    @Test
    void rulesByHandle() {
        base();
        nft.apply(tx().add(NftObject.Chain.regular("c")).add(NftObject.Rule.of("c", "drop")).add(NftObject.Rule.of("c", "accept")));
        nft.apply(tx().insert(NftObject.Rule.of("c", "return")));
        assertEquals(List.of("return", "drop", "accept"), nft.rules(F, T, "c"));
        String dump = nft.listTable(F, T);
        assertTrue(dump.contains("chain c {\n\t\treturn\n\t\tdrop\n\t\taccept\n\t}"), dump);
    }

    @Test
    void flushKeepsObjectsDropsContents() {
        base();
        nft.apply(tx().flush(NftObject.Chain.regular("services")).flush(NftObject.Container.map("service-ips", null, null)));
        assertEquals(List.of(), nft.rules(F, T, "services"));
        assertTrue(nft.elements(F, T, "service-ips").isEmpty());
        // with nothing referring to it, the chain can be deleted
        nft.apply(tx().delete(NftObject.Chain.regular("svc-a")));
    }

    @Test
    void listTableStyle() {
        base();
        nft.apply(tx().add(new NftObject.Container(false, "affinity-x", "ipv4_addr", List.of("dynamic", "timeout"), 10800, null)));
        assertEquals("""
                table ip kube-proxy {
                \tcomment "rules for kube-proxy"
                \tset affinity-x {
                \t\ttype ipv4_addr
                \t\tflags dynamic,timeout
                \t\ttimeout 3h
                \t}
                \tset cluster-ips {
                \t\ttype ipv4_addr
                \t}
                \tmap service-ips {
                \t\ttype ipv4_addr . inet_proto . inet_service : verdict
                \t\tcomment "dispatch"
                \t\telements = { 172.30.0.1 . tcp . 80 : goto svc-a }
                \t}
                \tchain nat-prerouting {
                \t\ttype nat hook prerouting priority dstnat; policy accept;
                \t\tjump services
                \t}
                \tchain services {
                \t\tip daddr . meta l4proto . th dport vmap @service-ips
                \t\tip daddr @cluster-ips drop
                \t}
                \tchain svc-a {
                \t}
                }
                """, nft.listTable(F, T));
    }

    @Test
    void deleteTable() {
        base();
        nft.apply(tx().delete(new NftObject.Table(null)));
        assertFalse(nft.hasTable(F, T));
        fails("ENOENT", tx().delete(new NftObject.Table(null)));
        nft.apply(tx().destroy(new NftObject.Table(null)));
    }
}
