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
