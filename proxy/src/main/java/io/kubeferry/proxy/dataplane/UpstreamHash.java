package io.kubeferry.proxy.dataplane;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The hash in upstream's per-Service object names, for every mode that writes them: the first characters of
 * base32(sha256(text)), RFC 4648 base32 as Go's base32.StdEncoding writes it. iptables mode takes 16 characters
 * (KUBE-SVC-..., k/k pkg/proxy/iptables), nftables mode 8 (service-HASH8-..., pkg/proxy/nftables hashAndTruncate).
 * Operators and tools recognise these names, so the hash must stay bit-for-bit upstream's; callers cache it (a
 * full sync of 10,000 Services would otherwise spend most of its time in SHA-256).
 */
public final class UpstreamHash {

    private static final char[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

    private UpstreamHash() {
    }

    /** The first {@code length} characters (at most 52, the unpadded base32 of a SHA-256) of base32(sha256(text)). */
    public static String of(String text, int length) {
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
        StringBuilder out = new StringBuilder(length);
        int buffer = 0;
        int bits = 0;
        for (int i = 0; i < digest.length && out.length() < length; i++) {
            buffer = (buffer << 8) | (digest[i] & 0xff);
            bits += 8;
            while (bits >= 5 && out.length() < length) {
                out.append(ALPHABET[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0 && out.length() < length) {
            out.append(ALPHABET[(buffer << (5 - bits)) & 31]);
        }
        return out.toString();
    }
}
