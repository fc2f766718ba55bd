package io.kubeferry.proxy.testing.trace;

/** The kernel's jhash_3words (include/linux/jhash.h, Bob Jenkins' lookup3 final mix), for HMARK. */
final class Jhash {

    private static final int INITVAL = 0xdeadbeef;

    private Jhash() {
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
