package io.kubeferry.proxy.testing.trace;

import java.util.Comparator;

/**
 * Where one possible path of a packet ends. A packet has several paths when a rule matches only sometimes
 * (statistic, recent): the tracer follows each.
 *
 * @param kind         what happened
 * @param endpoint     {@code ip:port} the packet was sent on to, for {@link Kind#DNAT}; "" otherwise
 * @param masqueraded  the source address is rewritten on the way out (only for packets that go on)
 * @param stickySeconds for {@link Kind#DNAT}: the client is pinned to this endpoint for this long (ClientIP
 *                      affinity), 0 for none
 */
public record PathEnd(Kind kind, String endpoint, boolean masqueraded, int stickySeconds) implements Comparable<PathEnd> {

    public enum Kind {
        /** Sent on to a Service endpoint (destination rewritten). */
        DNAT,
        /** Refused: the client gets an ICMP port unreachable (iptables REJECT, IPVS without a real server). */
        REJECT,
        /** Silently dropped. */
        DROP,
        /** Explicitly accepted by a filter rule, destination unchanged (e.g. a health check node port). */
        ACCEPT,
        /** No kube-ferry rule decided anything: the packet goes on as it came. */
        UNTOUCHED
    }

    private static final Comparator<PathEnd> ORDER = Comparator.comparing(PathEnd::kind).thenComparing(PathEnd::endpoint)
            .thenComparing(PathEnd::masqueraded).thenComparingInt(PathEnd::stickySeconds);

    public PathEnd {
        endpoint = endpoint == null ? "" : endpoint;
        if (kind == Kind.REJECT || kind == Kind.DROP) {
            // Nothing goes on, so nothing is masqueraded, and an endpoint chosen before the verdict (IPVS picks
            // its real server before filter OUTPUT) is reached by nothing.
            masqueraded = false;
            endpoint = "";
        }
        if (kind != Kind.DNAT) {
            stickySeconds = 0;
        }
    }

    @Override
    public int compareTo(PathEnd other) {
        return ORDER.compare(this, other);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case DNAT -> "DNAT " + endpoint + (masqueraded ? " masq" : "") + (stickySeconds > 0 ? " sticky " + stickySeconds + "s" : "");
            case UNTOUCHED, ACCEPT -> kind + (masqueraded ? " masq" : "");
            default -> kind.toString();
        };
    }
}
