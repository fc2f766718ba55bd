package io.kubeferry.nftables;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the renderer writes reads back as the same transaction: the text is unambiguous. */
class NftScriptTest {

    @Test
    void everyGoldenFileRoundTrips() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("src/test/resources/golden"))) {
            for (Path file : files.sorted().toList()) {
                String text = Files.readString(file);
                String body = text.substring(NftGolden.header(text).length());
                assertEquals(body, NftScript.parse(body).render(), file.toString());
            }
        }
    }

    /** The block form the dataplane applies holds the same operations, in the same order, as the golden text. */
    @Test
    void everyGoldenFileInChainBlocksReadsBackAsTheSameTransaction() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("src/test/resources/golden"))) {
            for (Path file : files.sorted().toList()) {
                String text = Files.readString(file);
                String body = text.substring(NftGolden.header(text).length());
                NftTransaction tx = NftScript.parse(body);
                assertEquals(tx.ops(), NftScript.parse(tx.renderBlocks()).ops(), file.toString());
            }
        }
    }

    @Test
    void runsOfRulesOfOneChainBecomeItsBlock() {
        NftTransaction tx = new NftTransaction("ip", "kube-proxy").add(NftObject.Chain.regular("a")).flush(NftObject.Chain.regular("a"))
                .add(NftObject.Rule.of("a", "ip daddr 1.2.3.4 jump b", "to b")).add(NftObject.Rule.of("a", "goto c"))
                .add(NftObject.Rule.of("b", "drop")).flush(NftObject.Chain.regular("d")).add(NftObject.Rule.of("a", "accept"));
        assertEquals("""
                add chain ip kube-proxy a
                flush chain ip kube-proxy a
                add chain ip kube-proxy a {
                ip daddr 1.2.3.4 jump b comment "to b"
                goto c
                }
                add chain ip kube-proxy b {
                drop
                }
                flush chain ip kube-proxy d
                add chain ip kube-proxy a {
                accept
                }
                """, tx.renderBlocks());
        assertEquals(tx.ops(), NftScript.parse(tx.renderBlocks()).ops());
    }

    @Test
    void handlesAndDeletes() {
        String text = """
                delete rule ip kube-proxy services handle 12
                replace rule ip kube-proxy services handle 12 ip daddr @cluster-ips drop comment "x y"
                delete chain ip kube-proxy handle 7
                delete element ip kube-proxy service-ips { 1.2.3.4 . tcp . 80 }
                destroy set ip kube-proxy affinity-X
                """;
        assertEquals(text, NftScript.parse(text).render());
    }
}
