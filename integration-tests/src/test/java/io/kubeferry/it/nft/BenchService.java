package io.kubeferry.it.nft;

import java.util.ArrayList;
import java.util.List;

/**
 * One synthetic TCP Service port of the dispatch benchmark: ClusterIP {@code vip}:80 to {@code endpoints}
 * (addresses, port 8080). {@code id} is its slot-range owner id in the shared-map shapes.
 */
record BenchService(int id, String vip, List<String> endpoints) {

    static final int PORT = 80;
    static final int TARGET_PORT = 8080;
    /** Upstream's comparison clusters are "x 5 endpoints"; the mixed fleet adds the 2- and 1-endpoint Services clusters have. */
    static final int MAX_ENDPOINTS = 5;

    BenchService {
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty() || endpoints.size() > MAX_ENDPOINTS) {
            throw new IllegalArgumentException("1 to " + MAX_ENDPOINTS + " endpoints, not " + endpoints.size());
        }
    }

    /** How many endpoints each Service of a fleet has. */
    enum Mix {

        /** Every Service 5 endpoints (the 10,000 x 5). */
        FIVE("5 each"),
        /** A third each with 5, 2 and 1 endpoints (id 0: 5, id 1: 2, id 2: 1, ...). */
        MIXED("5/2/1 mixed");

        final String title;

        Mix(String title) {
            this.title = title;
        }

        int endpointsOf(int id) {
            return this == FIVE ? 5 : new int[] {5, 2, 1}[id % 3];
        }
    }

    /**
     * {@code count} Services: VIPs 198.19.x.y, endpoints 198.18.16.1 onwards (five addresses reserved per
     * Service, so a fleet's addresses never depend on its mix); 198.18.0.0/24 stays free for the test bed's pods.
     */
    static List<BenchService> fleet(int count, Mix mix) {
        if (count > 50_000) {
            throw new IllegalArgumentException("the address plan holds 50,000 Services");
        }
        List<BenchService> fleet = new ArrayList<>(count);
        for (int s = 0; s < count; s++) {
            List<String> eps = new ArrayList<>();
            for (int e = 0; e < mix.endpointsOf(s); e++) {
                int host = s * MAX_ENDPOINTS + e;
                eps.add("198.18." + (16 + host / 250) + "." + (host % 250 + 1));
            }
            fleet.add(new BenchService(s, "198.19." + (s / 250) + "." + (s % 250 + 1), eps));
        }
        return fleet;
    }

    /** The same Service with as many endpoints, all replaced by new addresses (198.18.220+ range): a rollout. */
    BenchService movedTo(int generation) {
        List<String> eps = new ArrayList<>();
        for (int e = 0; e < endpoints.size(); e++) {
            eps.add("198.18." + (220 + generation % 30) + "." + (id % 50 * MAX_ENDPOINTS + e + 1));
        }
        return new BenchService(id, vip, eps);
    }

    BenchService withEndpoints(List<String> addresses) {
        return new BenchService(id, vip, addresses);
    }

    /** Upstream's {@code ns/svc/proto/port} form, the part of its chain names after the hash. */
    String portName() {
        return "bench/svc-" + id + "/tcp/http";
    }
}
