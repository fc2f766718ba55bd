package io.kubeferry.proxy.testing.trace;

import io.kubeferry.proxy.model.Endpoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler property tests every table-driven mode passes (iptables: IptablesSchedulingTest, nftables:
 * NftablesSchedulingTest), on what its tracer says each simulated client reaches: the endpoints and clients, an even
 * spread within 5 %, and Maglev's remap fraction when one endpoint goes or comes.
 */
public final class SchedulingProperties {

    public static final int CLIENTS = 10_000;

    private SchedulingProperties() {
    }

    /** {@code n} endpoints 198.18.0.10:8080, 198.18.0.11:8080, ... */
    public static List<Endpoint> endpoints(int n) {
        List<Endpoint> eps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            eps.add(endpoint("198.18.0." + (10 + i), 8080));
        }
        return eps;
    }

    /** {@code count} distinct addresses in 198.18.64.0 - 198.18.255.255: outside the pod CIDR, so masqueraded on the way. */
    public static List<String> clients(long seed, int count) {
        List<String> all = new ArrayList<>();
        for (int a = 64; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                all.add("198.18." + a + "." + b);
            }
        }
        Collections.shuffle(all, new Random(seed));
        return List.copyOf(all.subList(0, count));
    }

    /** Clients per endpoint. */
    public static Map<String, Integer> counts(Map<String, String> where) {
        Map<String, Integer> n = new TreeMap<>();
        where.values().forEach(e -> n.merge(e, 1, Integer::sum));
        return n;
    }

    /** Every one of {@code n} endpoints got within 5 % of an even share (printed). */
    public static void assertEven(String label, Map<String, Integer> counts, int n) {
        int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        System.out.println(label + " over " + n + " endpoints, " + total + " clients: " + counts);
        assertEquals(n, counts.size(), counts.toString());
        double even = (double) total / n;
        counts.forEach((ep, c) -> assertTrue(Math.abs(c - even) <= 0.05 * even, label + ": " + ep + " got " + c + " of " + total));
    }

    /** Where each of a fixed set of clients goes over some endpoints. */
    public interface Router {

        Map<String, String> route(List<Endpoint> endpoints) throws Exception;
    }

    /** Removing one of N endpoints, or adding one, moves between 0.8/N and 1.5/N of the clients (N = 5 and 10; printed). */
    public static void assertMaglevRemap(String label, Router router) throws Exception {
        for (int n : new int[] {5, 10}) {
            List<Endpoint> eps = endpoints(n);
            Map<String, String> before = router.route(eps);
            List<Endpoint> fewer = new ArrayList<>(eps);
            fewer.remove(n / 2);
            Map<String, String> removed = router.route(fewer);
            List<Endpoint> more = new ArrayList<>(eps);
            more.add(endpoint("198.18.0.200", 8080));
            Map<String, String> added = router.route(more);
            double gone = moved(before, removed);
            double came = moved(before, added);
            System.out.printf("%s maglev M=1021 N=%d: removing one endpoint moved %.4f of clients (1/N = %.4f); adding one moved %.4f "
                    + "(1/(N+1) = %.4f)%n", label, n, gone, 1.0 / n, came, 1.0 / (n + 1));
            assertTrue(gone >= 0.8 / n && gone <= 1.5 / n, "removal moved " + gone);
            assertTrue(came >= 0.8 / (n + 1) && came <= 1.5 / (n + 1), "addition moved " + came);
        }
    }

    /** The share of clients whose endpoint differs between two routings. */
    public static double moved(Map<String, String> a, Map<String, String> b) {
        long changed = a.keySet().stream().filter(c -> !a.get(c).equals(b.get(c))).count();
        return (double) changed / a.size();
    }
}
