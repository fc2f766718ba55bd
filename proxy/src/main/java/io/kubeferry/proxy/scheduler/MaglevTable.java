package io.kubeferry.proxy.scheduler;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016,
 * section 3.4): each endpoint has a permutation of the M slots, {@code (offset + j * skip) mod M} with offset and
 * skip from two hashes of its name; endpoints take turns claiming their next free slot until every slot is
 * taken. Each endpoint gets M/N slots, give or take one, and removing one endpoint moves little more than its own
 * slots. Pure: the same names in the same order, size and seed give the same table on every node.
 */
public final class MaglevTable {

    private MaglevTable() {
    }

    /**
     * @param names endpoint names (kube-ferry: {@code ip:port}), in the order every node uses; not empty
     * @param size  M, a prime (so every skip in [1, M-1] walks all slots)
     * @param seed  the hash seed, the same on every node
     * @return the endpoint index of each slot
     */
    public static List<Integer> compute(List<String> names, int size, int seed) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no endpoints");
        }
        if (size < 2 || !java.math.BigInteger.valueOf(size).isProbablePrime(30)) {
            throw new IllegalArgumentException("the Maglev table size must be a prime, got " + size);
        }
        int n = names.size();
        long[] offset = new long[n];
        long[] skip = new long[n];
        for (int i = 0; i < n; i++) {
            long[] h = hashes(names.get(i), seed);
            offset[i] = Long.remainderUnsigned(h[0], size);
            skip[i] = Long.remainderUnsigned(h[1], size - 1) + 1;
        }
        int[] entry = new int[size];
        Arrays.fill(entry, -1);
        long[] next = new long[n];
        int filled = 0;
        while (true) {
            for (int i = 0; i < n; i++) {
                int c = (int) ((offset[i] + next[i] * skip[i]) % size);
                while (entry[c] >= 0) {
                    next[i]++;
                    c = (int) ((offset[i] + next[i] * skip[i]) % size);
                }
                entry[c] = i;
                next[i]++;
                if (++filled == size) {
                    List<Integer> table = new ArrayList<>(size);
                    for (int e : entry) {
                        table.add(e);
                    }
                    return table;
                }
            }
        }
    }

    /** Two independent 64-bit hashes of a name: SHA-256 (the same in every JVM) of the seed and the name. */
    private static long[] hashes(String name, int seed) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(ByteBuffer.allocate(4).putInt(seed).array());
            ByteBuffer d = ByteBuffer.wrap(sha.digest(name.getBytes(StandardCharsets.UTF_8)));
            return new long[] {d.getLong(), d.getLong()};
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
