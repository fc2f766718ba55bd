package io.kubeferry.proxy.dataplane;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UpstreamHashTest {

    /** The same characters as RFC 4648 base32 (Go's StdEncoding, Python's b32encode) of the SHA-256. */
    @Test
    void theEncodingIsRfc4648Base32() {
        // sha256("") = e3b0c442..., whose base32 (unpadded) begins 4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ
        assertEquals("4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ", UpstreamHash.of("", 52));
        // base64.b32encode(hashlib.sha256(b"ns1/svc1:p80tcp").digest())[:16], computed with Python's standard library
        assertEquals("XPGD46QRK7WJZT7O", UpstreamHash.of("ns1/svc1:p80tcp", 16));
    }

    /** iptables mode's 16 and nftables mode's 8 characters are prefixes of one encoding, as upstream's. */
    @Test
    void shorterHashesArePrefixesOfLongerOnes() {
        String sixteen = UpstreamHash.of("ns1/svc1:p80tcp", 16);
        assertEquals(16, sixteen.length());
        assertEquals(sixteen.substring(0, 8), UpstreamHash.of("ns1/svc1:p80tcp", 8));
        assertTrue(sixteen.chars().allMatch(c -> (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')), sixteen);
    }
}
