package io.kubeferry.nftables;

import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.testing.trace.Packet;
import io.kubeferry.proxy.testing.trace.PacketTracer;
import io.kubeferry.proxy.testing.trace.PathEnd;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Walks a packet through the kube-proxy table a {@link FakeNft} holds, as the kernel does: at each hook the table's
 * base chains for it in priority order (prerouting or, for the node's own packets, output: the filter chains at
 * dstnat - 10, nat at dstnat; the routing decision, is the destination one of the node's addresses; input or
 * forward (and input after output for a local destination); postrouting at srcnat). A base chain's accept (a
 * dnat, a masquerade) ends that chain only; drop and reject end the packet.
 *
 * <p>The rule forms NftablesRenderer writes are understood: {@code ip saddr/daddr}, {@code meta l4proto} and
 * {@code th dport} compared to a value, a prefix, an anonymous set or a named set, or concatenated into a
 * {@code vmap} lookup in a named map; {@code fib saddr/daddr type local}; {@code ct state new} (the first packet);
 * {@code numgen random mod N vmap { ... }} as any of its branches, a cascade step {@code numgen random|inc mod N K}
 * (or {@code K-L}) as matching or not ({@link #sampling}: one draw, or the rule's counter); ServiceDispatch's hash
 * dispatch {@code numgen random mod 1 offset ID . jhash ip saddr mod M seed S offset B vmap @map} by the kernel's
 * jhash of the client address; in an ip6 table ({@link NftFamily}) the same with {@code ip6 saddr/daddr}; membership of an affinity set (dynamic, so it
 * may or may not hold the client: both ways are followed, and a later {@code update} of it pins the client for the
 * set's timeout); {@code mark} set and test, jump, goto, return, accept, drop, reject, dnat, masquerade. Anything
 * else fails the trace: an unknown form must not be guessed.
 */
final class NftablesTracer implements PacketTracer {

    private static final String TABLE = "kube-proxy";

    private enum Verdict {
        CONTINUE, RETURN, ACCEPT, DROP, REJECT, JUMP, GOTO
    }

    /** The packet's addresses at one point of the path (after any DNAT). */
    private record Headers(String source, String destination, String protocol, int port) {
    }

    /** One path's state; immutable, so paths fork freely. {@code checked}: affinity sets looked up so far. */
    private record State(Headers headers, long mark, String dnat, boolean masq, int sticky, Set<String> checked, List<String> steps) {

        State step(String s) {
            List<String> more = new ArrayList<>(steps);
            more.add(s);
            return new State(headers, mark, dnat, masq, sticky, checked, more);
        }

        State withMark(long value) {
            return new State(headers, value, dnat, masq, sticky, checked, steps);
        }

        State dnatTo(String hostPort) {
            int colon = hostPort.lastIndexOf(':');
            // [2001:db8::5]:8080 for an IPv6 endpoint: the address without its brackets.
            String address = hostPort.substring(0, colon).replace("[", "").replace("]", "");
            Headers h = new Headers(headers.source(), address, headers.protocol(),
                    Integer.parseInt(hostPort.substring(colon + 1)));
            return new State(h, mark, hostPort, masq, sticky, checked, steps);
        }

        State masqueraded() {
            return new State(headers, mark, dnat, true, sticky, checked, steps);
        }

        State pinned(int seconds) {
            return new State(headers, mark, dnat, masq, seconds, checked, steps);
        }

        State checking(String set) {
            Set<String> more = new TreeSet<>(checked);
            more.add(set);
            return new State(headers, mark, dnat, masq, sticky, Set.copyOf(more), steps);
        }
    }

    /** Where a rule leaves one path: a verdict ({@code target} for jump and goto) or CONTINUE to the next rule. */
    private record Result(State state, Verdict verdict, String target) {
    }

    private final FakeNft nft;
    /** The table walked: {@code ip kube-proxy} or {@code ip6 kube-proxy}, and the address selectors it uses. */
    private final NftFamily family;
    private final Set<String> localAddresses;
    /** Null: every way a numgen can go is followed; else one path per packet, random draws from this. */
    private final java.util.Random draws;
    /** numgen inc counters by rule (chain and text), kept across the packets traced, as each kernel rule has its own. */
    private final Map<String, Integer> counters = new java.util.HashMap<>();

    /** @param localAddresses the node's own addresses (fib type local, the routing decision); 127.0.0.0/8 always is */
    NftablesTracer(FakeNft nft, Set<String> localAddresses) {
        this(nft, NftFamily.IPV4, localAddresses);
    }

    /** The tracer of {@code family}'s table; ::1 is always local too. */
    NftablesTracer(FakeNft nft, NftFamily family, Set<String> localAddresses) {
        this(nft, family, localAddresses, null);
    }

    private NftablesTracer(FakeNft nft, NftFamily family, Set<String> localAddresses, java.util.Random draws) {
        this.nft = nft;
        this.family = family;
        this.localAddresses = Set.copyOf(localAddresses);
        this.draws = draws;
    }

    /**
     * A tracer over the same table that takes one path per packet: numgen random draws from {@code random}, numgen
     * inc by per-rule counters kept across the packets traced (fresh counters, as after the rules were written), jhash
     * as the kernel computes it. For distributions over many simulated connections.
     */
    NftablesTracer sampling(java.util.Random random) {
        return new NftablesTracer(nft, family, localAddresses, random);
    }

    /**
     * A numgen or jhash expression: {@code numgen random|inc mod N [offset O]}, {@code jhash ip saddr mod N seed S
     * [offset O]}; {@code end} is the index of the word after it.
     */
    private record Expr(String mode, int mod, long seed, long offset, int end) {

        static Expr parse(List<String> words, int i, String text) {
            String mode;
            int at;
            if (words.get(i).equals("numgen")) {
                mode = words.get(i + 1);
                if (!mode.equals("random") && !mode.equals("inc")) {
                    throw new IllegalStateException("numgen " + mode + " not understood: " + text);
                }
                at = i + 2;
            } else if (words.get(i).equals("jhash")) {
                if (!words.get(i + 1).equals("ip6")) {
                    expect(words, i + 1, text, "ip", "saddr");
                }
                expect(words, i + 2, text, "saddr");
                mode = "jhash";
                at = i + 3;
            } else {
                throw new IllegalStateException("expected numgen or jhash at word " + (i + 1) + ": " + text);
            }
            expect(words, at, text, "mod");
            int mod = Integer.parseInt(words.get(at + 1));
            at += 2;
            long seed = 0;
            if (mode.equals("jhash")) {
                expect(words, at, text, "seed");
                seed = Long.decode(words.get(at + 1));
                at += 2;
            }
            long offset = 0;
            if (at < words.size() && words.get(at).equals("offset")) {
                offset = Long.parseLong(words.get(at + 1));
                at += 2;
            }
            return new Expr(mode, mod, seed, offset, at);
        }

        /** One value of a numgen (random: uniform; inc: this rule's counter, 0 first, as nft_numgen starts it). */
        int draw(java.util.Random random, Map<String, Integer> counters, String rule) {
            if (mode.equals("random")) {
                return random.nextInt(mod);
            }
            int count = counters.getOrDefault(rule, 0);
            counters.put(rule, count + 1);
            return count % mod;
        }

        /**
         * nft_jhash: the kernel's jhash of the address's 4 bytes (16 for ip6 saddr; network order) with the seed, scaled into [0, mod)
         * by reciprocal_scale (the high bits of hash * mod, not hash % mod), plus the offset.
         */
        long jhash(String ip) {
            return (ip.indexOf(':') >= 0
                    ? io.kubeferry.proxy.testing.trace.Jhash.nftJhash6(ip, (int) seed, mod)
                    : io.kubeferry.proxy.testing.trace.Jhash.nftJhash(ip, (int) seed, mod)) + offset;
        }
    }

    @Override
    public String mode() {
        return "nftables";
    }

    @Override
    public IpFamily family() {
        return family.ipFamily();
    }

    private boolean local(String ip) {
        return ip.startsWith("127.") || ip.equals("::1") || localAddresses.contains(ip);
    }

    @Override
    public Trace trace(Packet packet) {
        boolean fromNode = packet.origin() == Packet.Origin.NODE;
        State start = new State(new Headers(packet.source(), packet.destination(), packet.protocol().lower(), packet.port()),
                0, null, false, 0, Set.of(), List.of());
        List<State> ended = new ArrayList<>();
        List<PathEnd> ends = new ArrayList<>();
        List<State> routed = new ArrayList<>();
        for (State s : hook(fromNode ? "output" : "prerouting", start, ends, ended)) {
            if (fromNode) {
                routed.addAll(local(s.headers().destination()) ? hook("input", s, ends, ended) : List.of(s));
            } else {
                routed.addAll(hook(local(s.headers().destination()) ? "input" : "forward", s, ends, ended));
            }
        }
        for (State s : routed) {
            for (State post : hook("postrouting", s, ends, ended)) {
                finish(post, post.dnat() != null ? PathEnd.Kind.DNAT : PathEnd.Kind.UNTOUCHED, ends, ended);
            }
        }
        return Trace.of(ends, ended.stream().map(State::steps).toList());
    }

    private static void finish(State s, PathEnd.Kind kind, List<PathEnd> ends, List<State> ended) {
        ends.add(new PathEnd(kind, s.dnat(), s.masq(), s.sticky()));
        ended.add(s);
    }

    /** Every base chain of {@code hook}, by priority: the paths that go on (dropped and rejected ones end here). */
    private List<State> hook(String hook, State start, List<PathEnd> ends, List<State> ended) {
        if (!nft.hasTable(family.name(), TABLE)) {
            return List.of(start);
        }
        List<NftObject.Chain> bases = nft.chains(family.name(), TABLE).stream().map(c -> nft.chain(family.name(), TABLE, c))
                .filter(c -> c.base() != null && c.base().hook().equals(hook))
                .sorted(Comparator.comparingInt(c -> c.base().priority())).toList();
        List<State> live = List.of(start);
        for (NftObject.Chain base : bases) {
            List<State> next = new ArrayList<>();
            for (State s : live) {
                for (Result r : walk(base.name(), s.step(hook + ": base chain " + base.name() + " (" + base.base().type()
                        + " priority " + base.base().priority() + ")"), 0)) {
                    switch (r.verdict()) {
                        case DROP -> finish(r.state(), PathEnd.Kind.DROP, ends, ended);
                        case REJECT -> finish(r.state(), PathEnd.Kind.REJECT, ends, ended);
                        case ACCEPT, RETURN -> next.add(r.state());
                        default -> throw new IllegalStateException(r.verdict() + " out of base chain " + base.name());
                    }
                }
            }
            live = next;
        }
        return live;
    }

    /** Every way out of {@code chain}: ACCEPT, DROP, REJECT, or RETURN (a return, or the end of the chain). */
    private List<Result> walk(String chain, State start, int depth) {
        if (depth > 32) {
            throw new IllegalStateException("jump loop at " + chain);
        }
        List<Result> done = new ArrayList<>();
        List<State> live = new ArrayList<>(List.of(start));
        for (String text : nft.rules(family.name(), TABLE, chain)) {
            List<State> next = new ArrayList<>();
            for (State s : live) {
                for (Result r : rule(chain, text, s)) {
                    switch (r.verdict()) {
                        case CONTINUE -> next.add(r.state());
                        case JUMP, GOTO -> {
                            for (Result called : walk(r.target(), r.state(), depth + 1)) {
                                if (called.verdict() != Verdict.RETURN || r.verdict() == Verdict.GOTO) {
                                    // A goto's chain returns from this one too.
                                    done.add(called);
                                } else {
                                    next.add(called.state());
                                }
                            }
                        }
                        default -> done.add(r);
                    }
                }
            }
            live = next;
        }
        live.forEach(s -> done.add(new Result(s, Verdict.RETURN, null)));
        return done;
    }

    /**
     * One rule on one path: every way it can leave it. A path the rule does not match goes on (CONTINUE) as it came,
     * except that an affinity set it looked up is remembered; a matching path gets the rule as a step.
     */
    private List<Result> rule(String chain, String text, State in) {
        List<String> words = tokens(text);
        List<Result> out = new ArrayList<>();
        List<State> live = List.of(in);
        int i = 0;
        while (i < words.size() && !live.isEmpty()) {
            String w = words.get(i);
            List<State> next = new ArrayList<>();
            switch (w) {
                case "ct" -> {
                    expect(words, i, text, "ct", "state", "new");
                    next.addAll(live);
                    i += 3;
                }
                case "fib" -> {
                    String field = words.get(i + 1);
                    expect(words, i + 2, text, "type", "local");
                    for (State s : live) {
                        String ip = switch (field) {
                            case "saddr" -> s.headers().source();
                            case "daddr" -> s.headers().destination();
                            default -> throw new IllegalStateException("fib " + field + " not understood: " + text);
                        };
                        (local(ip) ? next : noMatch(out)).add(s);
                    }
                    i += 4;
                }
                case "mark" -> {
                    long value = Long.decode(words.get(i + 4));
                    String op = words.get(i + 3);
                    if (words.get(i + 1).equals("set")) {
                        expect(words, i + 1, text, "set", "mark");
                        for (State s : live) {
                            next.add(s.withMark(switch (op) {
                                case "or" -> s.mark() | value;
                                case "xor" -> s.mark() ^ value;
                                default -> throw new IllegalStateException("mark set mark " + op + " not understood: " + text);
                            }));
                        }
                    } else {
                        expect(words, i + 1, text, "and");
                        long mask = Long.decode(words.get(i + 2));
                        for (State s : live) {
                            boolean equal = (s.mark() & mask) == value;
                            boolean match = switch (op) {
                                case "==" -> equal;
                                case "!=" -> !equal;
                                default -> throw new IllegalStateException("mark and ... " + op + " not understood: " + text);
                            };
                            (match ? next : noMatch(out)).add(s);
                        }
                    }
                    i += 5;
                }
                case "update" -> {
                    String set = words.get(i + 1).substring(1);
                    expect(words, i + 2, text, "{ " + family.saddr() + " }");
                    int timeout = (int) nft.container(family.name(), TABLE, set).timeoutSeconds();
                    // The client is pinned only where a lookup of the same set, earlier on the path, would see it.
                    live.forEach(s -> next.add(s.checked().contains(set) ? s.pinned(timeout) : s));
                    i += 3;
                }
                case "numgen" -> {
                    Expr gen = Expr.parse(words, i, text);
                    i = gen.end();
                    if (i < words.size() && words.get(i).equals(".")) {
                        // ServiceDispatch's hash dispatch: a constant (numgen random mod 1 offset ID) and a jhash of
                        // the client address, looked up in a named map.
                        Expr hash = Expr.parse(words, i + 1, text);
                        i = hash.end();
                        if (!gen.mode().equals("random") || gen.mod() != 1 || !hash.mode().equals("jhash") || i + 2 != words.size()
                                || !words.get(i).equals("vmap") || !words.get(i + 1).startsWith("@")) {
                            throw new IllegalStateException("concatenated numgen key not understood: " + text);
                        }
                        String map = words.get(i + 1).substring(1);
                        for (State s : live) {
                            String key = gen.offset() + " . " + hash.jhash(s.headers().source());
                            String value = nft.elements(family.name(), TABLE, map).get(key);
                            if (value == null) {
                                out.add(new Result(s, Verdict.CONTINUE, null));
                            } else {
                                out.add(verdict(value, s.step(chain + ": " + text + " [" + key + " : " + value + "]"), text));
                            }
                        }
                        return out;
                    }
                    if (i < words.size() && !words.get(i).equals("vmap")) {
                        // A cascade step, "numgen random|inc mod N K" (or K-L): enumerating, true for some draws, so a
                        // path may match (and take the rest of the rule) or go on to the next rule, both followed;
                        // sampling, one draw (random) or this rule's counter (inc).
                        String[] range = words.get(i).split("-", 2);
                        int lo = Integer.parseInt(range[0]);
                        int hi = range.length == 2 ? Integer.parseInt(range[1]) : lo;
                        int n = gen.mod();
                        if (lo < 0 || hi < lo || hi >= n || gen.offset() != 0) {
                            throw new IllegalStateException(
                                    "numgen mod " + n + " compared with " + words.get(i) + ", not understood: " + text);
                        }
                        for (State s : live) {
                            if (draws == null) {
                                next.add(s);
                                noMatch(out).add(s);
                            } else {
                                int v = gen.draw(draws, counters, chain + " " + text);
                                (v >= lo && v <= hi ? next : noMatch(out)).add(s);
                            }
                        }
                        i += 1;
                        break;
                    }
                    int n = gen.mod();
                    expect(words, i, text, "vmap");
                    Map<String, String> branches = anonymousMap(words.get(i + 1), text);
                    if (branches.size() != n || !branches.keySet().equals(range(n)) || i + 2 != words.size() || gen.offset() != 0) {
                        throw new IllegalStateException("numgen mod " + n + " with branches " + branches.keySet() + ": " + text);
                    }
                    for (State s : live) {
                        if (draws == null) {
                            branches.forEach((k, v) -> out.add(verdict(v, s.step(chain + ": " + text + " [branch " + k + "]"), text)));
                        } else {
                            String k = Integer.toString(gen.draw(draws, counters, chain + " " + text));
                            out.add(verdict(branches.get(k), s.step(chain + ": " + text + " [branch " + k + "]"), text));
                        }
                    }
                    return out;
                }
                case "ip", "ip6", "meta", "th" -> {
                    List<String> selectors = new ArrayList<>();
                    while (true) {
                        selectors.add(words.get(i) + " " + words.get(i + 1));
                        i += 2;
                        if (i < words.size() && words.get(i).equals(".")) {
                            i++;
                        } else {
                            break;
                        }
                    }
                    if (i >= words.size()) {
                        throw new IllegalStateException("a selector with nothing to compare: " + text);
                    }
                    String op = words.get(i);
                    if (op.equals("vmap")) {
                        String map = words.get(i + 1);
                        if (!map.startsWith("@") || i + 2 != words.size()) {
                            throw new IllegalStateException("vmap on no named map, or words after it: " + text);
                        }
                        for (State s : live) {
                            String key = key(selectors, s, text);
                            String value = nft.elements(family.name(), TABLE, map.substring(1)).get(key);
                            if (value == null) {
                                out.add(new Result(s, Verdict.CONTINUE, null));
                            } else {
                                out.add(verdict(value, s.step(chain + ": " + text + " [" + key + " : " + value + "]"), text));
                            }
                        }
                        return out;
                    }
                    boolean negated = op.equals("!=");
                    String operand = words.get(negated ? i + 1 : i);
                    i += negated ? 2 : 1;
                    for (State s : live) {
                        String key = key(selectors, s, text);
                        if (operand.startsWith("@") && affinity(operand.substring(1))) {
                            if (negated || !selectors.equals(List.of(family.saddr()))) {
                                throw new IllegalStateException("an affinity set looked up other than by " + family.saddr() + ": " + text);
                            }
                            // A dynamic set the packets fill: the client may be in it or not; either way it was looked up.
                            State looked = s.checking(operand.substring(1));
                            next.add(looked);
                            noMatch(out).add(looked);
                        } else {
                            (member(operand, key, text) != negated ? next : noMatch(out)).add(s);
                        }
                    }
                }
                case "jump", "goto" -> {
                    String target = words.get(i + 1);
                    end(words, i + 2, text);
                    live.forEach(
                            s -> out.add(new Result(s.step(chain + ": " + text), w.equals("jump") ? Verdict.JUMP : Verdict.GOTO, target)));
                    return out;
                }
                case "return", "accept", "drop", "reject" -> {
                    end(words, i + 1, text);
                    live.forEach(s -> out.add(verdict(w, s.step(chain + ": " + text), text)));
                    return out;
                }
                case "dnat" -> {
                    expect(words, i + 1, text, "to");
                    end(words, i + 3, text);
                    String to = words.get(i + 2);
                    live.forEach(s -> out.add(new Result(s.step(chain + ": " + text).dnatTo(to), Verdict.ACCEPT, null)));
                    return out;
                }
                case "masquerade" -> {
                    end(words, i + 1 < words.size() && words.get(i + 1).equals("fully-random") ? i + 2 : i + 1, text);
                    live.forEach(s -> out.add(new Result(s.step(chain + ": " + text).masqueraded(), Verdict.ACCEPT, null)));
                    return out;
                }
                default -> throw new IllegalStateException("rule word '" + w + "' not understood: " + text);
            }
            live = next;
        }
        // Matched to the end without a verdict (statements only): the next rule.
        live.forEach(s -> out.add(new Result(s.step(chain + ": " + text), Verdict.CONTINUE, null)));
        return out;
    }

    /** Where a path the rule does not match goes: on to the next rule, unchanged. */
    private static List<State> noMatch(List<Result> out) {
        return new java.util.AbstractList<>() {

            @Override
            public State get(int index) {
                throw new UnsupportedOperationException();
            }

            @Override
            public int size() {
                return 0;
            }

            @Override
            public boolean add(State s) {
                return out.add(new Result(s, Verdict.CONTINUE, null));
            }
        };
    }

    private static Set<String> range(int n) {
        Set<String> out = new TreeSet<>();
        for (int k = 0; k < n; k++) {
            out.add(Integer.toString(k));
        }
        return out;
    }

    private boolean affinity(String set) {
        NftObject.Container c = nft.container(family.name(), TABLE, set);
        if (c == null) {
            throw new IllegalStateException("no set " + set);
        }
        return c.flags().contains("dynamic") || c.flags().contains("timeout");
    }

    /**
     * The value of concatenated selectors, as map keys are written ({@code 198.19.0.1 . tcp . 80}); the address
     * selectors of the table's family only ({@code ip6 saddr} in an ip6 table).
     */
    private String key(List<String> selectors, State s, String text) {
        List<String> parts = new ArrayList<>();
        for (String selector : selectors) {
            String address = selector.equals(family.saddr()) ? "saddr" : selector.equals(family.daddr()) ? "daddr" : selector;
            parts.add(switch (address) {
                case "saddr" -> s.headers().source();
                case "daddr" -> s.headers().destination();
                case "meta l4proto" -> s.headers().protocol();
                case "th dport" -> Integer.toString(s.headers().port());
                default -> throw new IllegalStateException("selector " + selector + " not understood: " + text);
            });
        }
        return String.join(" . ", parts);
    }

    /** Whether {@code value} is in {@code operand}: a named set, an anonymous set, a prefix or one value. */
    private boolean member(String operand, String value, String text) {
        if (operand.startsWith("@")) {
            NftObject.Container c = nft.container(family.name(), TABLE, operand.substring(1));
            if (c == null || c.map() || c.flags().contains("interval")) {
                throw new IllegalStateException("set lookup not understood (no such set, a map, or an interval set): " + text);
            }
            return nft.elements(family.name(), TABLE, operand.substring(1)).containsKey(value);
        }
        if (operand.startsWith("{")) {
            for (String element : operand.substring(1, operand.length() - 1).split(",")) {
                if (matches(element.strip(), value, text)) {
                    return true;
                }
            }
            return false;
        }
        return matches(operand, value, text);
    }

    private static boolean matches(String literal, String value, String text) {
        if (literal.contains("/")) {
            return Cidr.parse(literal).contains(value);
        }
        if (literal.matches("[0-9.]+|[a-z]+|[0-9a-f:]*:[0-9a-f:]*")) {
            return literal.equals(value);
        }
        throw new IllegalStateException("value " + literal + " not understood: " + text);
    }

    private static Result verdict(String value, State s, String text) {
        String[] v = value.strip().split("\\s+");
        return switch (v[0]) {
            case "goto" -> new Result(s, Verdict.GOTO, v[1]);
            case "jump" -> new Result(s, Verdict.JUMP, v[1]);
            case "accept" -> new Result(s, Verdict.ACCEPT, null);
            case "drop" -> new Result(s, Verdict.DROP, null);
            case "reject" -> new Result(s, Verdict.REJECT, null);
            case "return" -> new Result(s, Verdict.RETURN, null);
            case "continue" -> new Result(s, Verdict.CONTINUE, null);
            default -> throw new IllegalStateException("verdict " + value + " not understood: " + text);
        };
    }

    /** {@code { 0 : goto a , 1 : goto b }} as key -> verdict. */
    private static Map<String, String> anonymousMap(String block, String text) {
        if (!block.startsWith("{")) {
            throw new IllegalStateException("vmap on no anonymous map: " + text);
        }
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String element : block.substring(1, block.length() - 1).split(",")) {
            String[] kv = element.split(" : ", 2);
            if (kv.length != 2) {
                throw new IllegalStateException("map element " + element + " not understood: " + text);
            }
            out.put(kv[0].strip(), kv[1].strip());
        }
        return out;
    }

    private static void expect(List<String> words, int at, String text, String... expected) {
        for (int k = 0; k < expected.length; k++) {
            if (at + k >= words.size() || !words.get(at + k).equals(expected[k])) {
                throw new IllegalStateException("expected '" + String.join(" ", expected) + "' at word " + (at + 1) + ": " + text);
            }
        }
    }

    private static void end(List<String> words, int at, String text) {
        if (at != words.size()) {
            throw new IllegalStateException("words after the verdict not understood: " + text);
        }
    }

    /** The rule's words, its trailing comment dropped, a {@code { ... }} block one word (its inner spacing normalised). */
    static List<String> tokens(String text) {
        String rule = text.replaceAll("\\s+comment \"[^\"]*\"\\s*$", "").strip();
        List<String> out = new ArrayList<>();
        StringBuilder block = null;
        for (String word : rule.split("\\s+")) {
            if (block != null) {
                block.append(' ').append(word);
                if (word.equals("}")) {
                    out.add(block.toString());
                    block = null;
                }
            } else if (word.equals("{")) {
                block = new StringBuilder("{");
            } else {
                out.add(word);
            }
        }
        if (block != null) {
            throw new IllegalStateException("unclosed { in: " + text);
        }
        return out;
    }
}
