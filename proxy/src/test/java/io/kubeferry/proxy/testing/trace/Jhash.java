package io.kubeferry.proxy.testing.trace;

/**
 * The kernel's jhash_3words (include/linux/jhash.h, Bob Jenkins' lookup3 final mix), for HMARK, and nft_jhash's
 * jhash of an IPv4 address (for nftables {@code jhash ip saddr}).
 */
public final class Jhash {

    private static final int INITVAL = 0xdeadbeef;

    private Jhash() {
    }

    /**
     * nft_jhash_eval for {@code jhash ip saddr mod N seed S}: {@code jhash(&saddr, 4, S)} over the address's bytes in
     * network order (jhash reads a 4-byte tail as k[0] | k[1] << 8 | k[2] << 16 | k[3] << 24 into a, with a, b, c
     * all starting at JHASH_INITVAL + 4 + S: jhash_3words' start less 8), scaled by reciprocal_scale, i.e.
     * {@code (hash * N) >> 32}, not hash mod N.
     */
    public static int nftJhash(String ipv4, int seed, int mod) {
        String[] b = ipv4.split("\\.");
        int le = Integer.parseInt(b[0]) | Integer.parseInt(b[1]) << 8 | Integer.parseInt(b[2]) << 16 | Integer.parseInt(b[3]) << 24;
        int hash = words3(le, 0, 0, seed - 8);
        return (int) ((Integer.toUnsignedLong(hash) * mod) >>> 32);
    }

    static int words3(int a, int b, int c, int initval) {
        int init = initval + INITVAL + (3 << 2);
        a += init;
        b += init;
        c += init;
        c ^= b;
        c -= Integer.rotateLeft(b, 14);
        a ^= c;
        a -= Integer.rotateLeft(c, 11);
        b ^= a;
        b -= Integer.rotateLeft(a, 25);
        c ^= b;
        c -= Integer.rotateLeft(b, 16);
        a ^= c;
        a -= Integer.rotateLeft(c, 4);
        b ^= a;
        b -= Integer.rotateLeft(a, 14);
        c ^= b;
        c -= Integer.rotateLeft(b, 24);
        return c;
    }
}
