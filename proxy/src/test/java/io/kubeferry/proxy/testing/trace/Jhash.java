package io.kubeferry.proxy.testing.trace;

/**
 * The kernel's jhash_3words (include/linux/jhash.h, Bob Jenkins' lookup3 final mix), for HMARK, and nft_jhash's
 * jhash of an IPv4 address (for nftables {@code jhash ip saddr}) and of an IPv6 one ({@code jhash ip6 saddr}).
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

    /**
     * nft_jhash_eval for {@code jhash ip6 saddr mod N seed S}: the kernel's jhash (lookup3) over the address's 16 bytes
     * in network order: a, b, c start at JHASH_INITVAL + 16 + S, the first 12 bytes are added as three little-endian
     * words and mixed (__jhash_mix), the last 4 added to a, then __jhash_final; scaled by reciprocal_scale.
     */
    public static int nftJhash6(String ipv6, int seed, int mod) {
        byte[] k;
        try {
            k = java.net.InetAddress.getByName(ipv6).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv6 address: " + ipv6, e);
        }
        if (k.length != 16) {
            throw new IllegalArgumentException("not an IPv6 address: " + ipv6);
        }
        int a = INITVAL + 16 + seed;
        int b = a;
        int c = a;
        a += le(k, 0);
        b += le(k, 4);
        c += le(k, 8);
        a -= c;
        a ^= Integer.rotateLeft(c, 4);
        c += b;
        b -= a;
        b ^= Integer.rotateLeft(a, 6);
        a += c;
        c -= b;
        c ^= Integer.rotateLeft(b, 8);
        b += a;
        a -= c;
        a ^= Integer.rotateLeft(c, 16);
        c += b;
        b -= a;
        b ^= Integer.rotateLeft(a, 19);
        a += c;
        c -= b;
        c ^= Integer.rotateLeft(b, 4);
        b += a;
        a += le(k, 12);
        // __jhash_final is jhash_3words' tail: words3 with its start (initval + INITVAL + 12) taken back out.
        int hash = words3(a, b, c, -(INITVAL + 12));
        return (int) ((Integer.toUnsignedLong(hash) * mod) >>> 32);
    }

    private static int le(byte[] k, int at) {
        return (k[at] & 0xff) | (k[at + 1] & 0xff) << 8 | (k[at + 2] & 0xff) << 16 | (k[at + 3] & 0xff) << 24;
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
