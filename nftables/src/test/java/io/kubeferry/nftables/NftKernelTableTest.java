package io.kubeferry.nftables;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static io.kubeferry.nftables.NftablesRendererTest.F;
import static io.kubeferry.nftables.NftablesRendererTest.T;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reading {@code nft -j list table} back: real nft's listings (src/test/resources/nft-json, one per golden file) parse
 * to the tables the golden transactions build, rule for rule as the renderer writes them, and {@link FakeNft}'s
 * listing of the same transaction parses to exactly the same table.
 */
class NftKernelTableTest {

    @Test
    void realListingsParseToTheRenderedRulesAndFakeNftListsTheSame() throws IOException {
        List<Path> listings;
        try (Stream<Path> files = Files.list(Path.of("src/test/resources/nft-json"))) {
            listings = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertEquals(24, listings.size(), "one real listing per golden file (12 of table ip, their 12 IPv6 twins of table ip6)");
        for (Path listing : listings) {
            String name = listing.getFileName().toString().replace(".json", "");
            String family = name.endsWith("-ipv6") ? NftFamily.IPV6.name() : F;
            String golden = Files.readString(Path.of("src/test/resources/golden", name + ".txt"));
            NftTransaction tx = NftScript.parse(golden);
            FakeNft fake = new FakeNft();
            fake.apply(tx);
            NftKernelTable real = NftKernelTable.parse(Files.readString(listing), family, T);
            assertNull(real.notUnderstood(), name + ": every rule of the real listing is understood");
            NftKernelTable faked = NftKernelTable.parse(fake.listJson(family, T), family, T);
            assertEquals(real.chains(), faked.chains(), name + ": chains and rules");
            assertEquals(real.containers(), faked.containers(), name + ": sets and maps");
            assertEquals(real.elements(), faked.elements(), name + ": elements");
            // The rules read back are the rendered ones, normalised.
            for (String chain : fake.chains(family, T)) {
                List<String> rendered = fake.rules(family, T, chain).stream().map(NftRuleText::normalise).toList();
                assertEquals(rendered, real.chains().get(chain).rules(), name + ": rules of " + chain);
            }
        }
    }

    @Test
    void upstreamDispatchIsRecognised() throws IOException {
        FakeNft fake = new FakeNft();
        fake.apply(NftScript.parse(NftGolden.canonical(Files.readString(Path.of("src/test/resources/upstream/overall.txt")))));
        NftKernelTable table = NftKernelTable.parse(fake.listJson(F, T), F, T);
        assertNotNull(table.upstreamDispatch(), "a numgen vmap { } rule marks upstream kube-proxy's table");
        assertTrue(table.notUnderstood().contains("vmap"), table.notUnderstood());
    }

    @Test
    void whatIsNotNftsListingIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> NftKernelTable.parse("not json", F, T));
        assertThrows(IllegalArgumentException.class, () -> NftKernelTable.parse("{\"nftables\":[{\"metainfo\":{}}]}", F, T));
        assertThrows(IllegalArgumentException.class,
                () -> NftKernelTable.parse("{\"nftables\":[{\"table\":{\"family\":\"ip\",\"name\":\"other\",\"handle\":1}}]}", F, T));
        NftKernelTable odd = NftKernelTable.parse("{\"nftables\":[{\"table\":{\"family\":\"ip\",\"name\":\"kube-proxy\",\"handle\":1}},"
                + "{\"flowtable\":{\"family\":\"ip\",\"table\":\"kube-proxy\",\"name\":\"f\"}}]}", F, T);
        assertEquals("a flowtable object", odd.notUnderstood());
    }

    @Test
    void normalisedSpellingsMeetTheKernels() {
        assertEquals("ip saddr != { 192.168.0.0/24 , 203.0.113.0/25 , 5.6.7.8 } drop",
                NftRuleText.normalise("ip saddr != { 203.0.113.0/25 , 192.168.0.0/24 , 5.6.7.8 } drop"));
        assertEquals("ip daddr 172.30.0.0/16 drop comment \"x { y }\"",
                NftRuleText.normalise("ip daddr { 172.30.0.0/16 } drop comment \"x { y }\""));
        assertEquals("mark and 0x4000 0 return", NftRuleText.normalise("mark and 0x4000 == 0 return"));
        // A source range of one address: the kernel lists 198.18.0.100/32 as 198.18.0.100.
        assertEquals("ip saddr != 198.18.0.100 drop", NftRuleText.normalise("ip saddr != { 198.18.0.100/32 } drop"));
        assertEquals("ip saddr != { 1.2.3.4 , 198.18.0.100 } drop",
                NftRuleText.normalise("ip saddr != { 198.18.0.100/32 , 1.2.3.4 } drop"));
        // And an IPv6 /128 as the address; a /64 stays a prefix.
        assertEquals("ip6 saddr != { 2001:db8:114::7 , 2001:db8:2::/64 } drop",
                NftRuleText.normalise("ip6 saddr != { 2001:db8:2::/64 , 2001:db8:114::7/128 } drop"));
    }
}
