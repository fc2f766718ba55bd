package io.kubeferry.proxy.testing.trace;

import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.testing.FakeNetfilter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Walks a packet through the iptables rules a {@link FakeNetfilter} holds, hook by hook as the kernel does:
 * nat PREROUTING (or OUTPUT for the node's own traffic), the routing decision (is the destination one of the
 * node's addresses?), filter INPUT/FORWARD/OUTPUT, nat POSTROUTING. IPVS mode adds its virtual-server lookup
 * where the kernel's IPVS hooks sit ({@link VirtualServers}) and the ipsets its rules match on ({@link Ipsets}).
 *
 * <p>Every match the dataplanes write is understood: {@code -s/-d/-p/--dport}, addrtype LOCAL, mark,
 * conntrack state (the first packet: NEW, plus DNAT once rewritten), set, comment, nfacct, ipvs
 * ({@code --vaddr/--vproto/--vport}: the virtual service IPVS took the packet for); statistic (random and nth)
 * and recent {@code --rcheck} may or may not match, so both ways are followed and every reachable end is
 * collected. HMARK is computed as the kernel does (xt_HMARK: jhash_3words of the masked addresses, then
 * reciprocal_scale into mod + offset), so mark matches after it are exact.
 *
 * <p>{@link #sampling} gives a tracer that decides instead of forking, as one kernel would for a sequence of new
 * connections: random matches draw from a seeded {@link java.util.Random}, and each nth rule keeps its own counter
 * (xt_statistic: the counter starts at {@code --packet}, counts every packet the rule sees, and matches when it
 * wraps from every-1 to 0). A rule with anything else fails the trace: an unknown match must not be guessed.
 *
 * <p>A tracer reads one family's tables: IPv4's (iptables) or IPv6's (ip6tables), as each family's packets pass
 * only their own family's hooks. IPv6 endpoints are {@code [ip]:port}, as DNAT's {@code --to-destination} writes them.
 */
public final class NetfilterTracer implements PacketTracer {

    /** ipset membership, as {@code -m set --match-set NAME FLAGS} asks it. */
    @FunctionalInterface
    public interface Ipsets {

        Ipsets NONE = (set, flags, h) -> {
            throw new IllegalStateException("rule matches on ipset " + set + " but this mode has no ipsets");
        };

        boolean contains(String set, String flags, Headers headers);
    }

    /** IPVS's table: consulted at LOCAL_IN (after filter INPUT) and LOCAL_OUT (after nat OUTPUT). */
    @FunctionalInterface
    public interface VirtualServers {

        VirtualServers NONE = (protocol, address, port) -> null;

        /** The virtual server for this destination, or null when there is none. */
        Virtual lookup(String protocol, String address, int port);

        /**
         * @param realServers        {@code ip:port} of the real servers that take new connections (weight above 0)
         * @param persistenceSeconds the -p timeout (ClientIP affinity), 0 for none
         */
        record Virtual(List<String> realServers, int persistenceSeconds) {

            public Virtual {
                realServers = List.copyOf(realServers);
            }
        }
    }

    /** The packet's addresses as they are at one point of the path (after any DNAT). */
    public record Headers(String source, String destination, String protocol, int port) {
    }

    private enum Verdict {
        RETURN, ACCEPT, DROP, REJECT, DNAT, MASQUERADE
    }

    private record Result(State state, Verdict verdict) {
    }

    /**
     * One path's state; immutable, so paths fork freely.
     *
     * @param virtual the destination as it was when IPVS took the packet for one of its virtual servers (what
     *                {@code -m ipvs --vaddr/--vproto/--vport} see), null until then
     */
    private record State(Headers headers, long mark, String dnat, boolean masq, boolean accepted, int sticky,
            Map<String, Integer> rchecks, List<String> steps, Headers virtual) {

        State step(String s) {
            List<String> more = new ArrayList<>(steps);
            more.add(s);
            return new State(headers, mark, dnat, masq, accepted, sticky, rchecks, more, virtual);
        }

        State withMark(long value) {
            return new State(headers, value, dnat, masq, accepted, sticky, rchecks, steps, virtual);
        }

        State dnatTo(String hostPort, int stickySeconds) {
            int colon = hostPort.lastIndexOf(':');
            String host = hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            Headers h = new Headers(headers.source(), Cidr.canonical(host), headers.protocol(),
                    Integer.parseInt(hostPort.substring(colon + 1)));
            return new State(h, mark, hostPort, masq, accepted, stickySeconds, rchecks, steps, virtual);
        }

        State masqueraded() {
            return new State(headers, mark, dnat, true, accepted, sticky, rchecks, steps, virtual);
        }

        State acceptedByFilter() {
            return new State(headers, mark, dnat, masq, true, sticky, rchecks, steps, virtual);
        }

        State rcheck(String name, int seconds) {
            Map<String, Integer> more = new HashMap<>(rchecks);
            more.put(name, seconds);
            return new State(headers, mark, dnat, masq, accepted, sticky, Map.copyOf(more), steps, virtual);
        }

        State takenByIpvs() {
            return new State(headers, mark, dnat, masq, accepted, sticky, rchecks, steps, headers);
        }

        State recentSet(String name) {
            // A --set only pins the client if a later packet's --rcheck of the same list is looked at first.
            return new State(headers, mark, dnat, masq, accepted, rchecks.getOrDefault(name, 0), rchecks, steps, virtual);
        }
    }

    private final String mode;
    private final IpFamily family;
    private final FakeNetfilter netfilter;
    private final Set<String> localAddresses;
    private final Ipsets ipsets;
    private final VirtualServers ipvs;
    /** Null: follow statistic matches both ways. Else: decide them (see {@link #sampling}). */
    private final java.util.Random draws;
    /** nth counters by rule position (table/chain#index), as each kernel rule has its own. */
    private final Map<String, Integer> nthCounters = new HashMap<>();
    private final Map<String, Rule> parsed = new HashMap<>();

    /**
     * @param localAddresses the node's own addresses (what {@code -m addrtype LOCAL} and the routing decision
     *                       see); 127.0.0.0/8 is always local
     */
    public NetfilterTracer(String mode, FakeNetfilter netfilter, Set<String> localAddresses, Ipsets ipsets, VirtualServers ipvs) {
        this(mode, IpFamily.IPv4, netfilter, localAddresses, ipsets, ipvs);
    }

    /**
     * A tracer of {@code family}'s packets through that family's tables; {@code ::1} is always local for IPv6, as
     * 127.0.0.0/8 is for IPv4.
     */
    public NetfilterTracer(String mode, IpFamily family, FakeNetfilter netfilter, Set<String> localAddresses, Ipsets ipsets,
            VirtualServers ipvs) {
        this(mode, family, netfilter, localAddresses, ipsets, ipvs, null);
    }

    private NetfilterTracer(String mode, IpFamily family, FakeNetfilter netfilter, Set<String> localAddresses, Ipsets ipsets,
            VirtualServers ipvs, java.util.Random draws) {
        this.mode = mode;
        this.family = family;
        this.netfilter = netfilter;
        this.localAddresses = Set.copyOf(localAddresses);
        this.ipsets = ipsets;
        this.ipvs = ipvs;
        this.draws = draws;
    }

    /**
     * A tracer over the same rules that takes one path per packet: statistic random from {@code random}, statistic
     * nth by per-rule counters kept across the packets traced (fresh counters, as after a restore). For
     * distribution tests: trace many clients' first packets and count where they went.
     */
    public NetfilterTracer sampling(java.util.Random random) {
        return new NetfilterTracer(mode, family, netfilter, localAddresses, ipsets, ipvs, random);
    }

    @Override
    public String mode() {
        return mode;
    }

    @Override
    public IpFamily family() {
        return family;
    }

    private boolean local(String ip) {
        boolean loopback = family == IpFamily.IPv4 ? ip.startsWith("127.") : ip.equals("::1");
        return loopback || localAddresses.contains(ip);
    }

    /**
     * The packet's source as the node's hooks see it. A process on the node that connects to one of the node's own
     * addresses (an unbound socket, which the table's node packets stand for) sends from that address: the local
     * route's preferred source is the address itself. This matters where Service IPs are local, as on IPVS mode's
     * kube-ipvs0: the node's packets to a load balancer IP carry that IP as source, which upstream's
     * KUBE-IPVS-OUT-FILTER and KUBE-LOAD-BALANCER-SOURCE-IP rely on. Elsewhere it changes nothing (a node packet
     * to its own node address already names it as source).
     */
    private String source(Packet packet) {
        return packet.origin() == Packet.Origin.NODE && local(packet.destination()) ? packet.destination() : packet.source();
    }

    @Override
    public Trace trace(Packet packet) {
        State start = new State(new Headers(source(packet), packet.destination(), packet.protocol().lower(), packet.port()),
                0, null, false, false, 0, Map.of(), List.of(), null);
        List<State> ended = new ArrayList<>();
        List<PathEnd> ends = new ArrayList<>();
        boolean fromNode = packet.origin() == Packet.Origin.NODE;
        for (Result nat : walk("nat", fromNode ? "OUTPUT" : "PREROUTING", start.step("nat " + (fromNode ? "OUTPUT" : "PREROUTING")), 0)) {
            if (nat.verdict() == Verdict.DROP) {
                finish(nat.state(), PathEnd.Kind.DROP, ends, ended);
                continue;
            }
            List<State> routed = new ArrayList<>();
            if (fromNode) {
                for (State s : virtualServer(nat.state(), ends, ended)) {
                    for (State out : filter("OUTPUT", s, ends, ended)) {
                        if (local(out.headers().destination())) {
                            routed.addAll(filter("INPUT", out, ends, ended));
                        } else {
                            routed.add(out);
                        }
                    }
                }
            } else if (local(nat.state().headers().destination())) {
                for (State in : filter("INPUT", nat.state(), ends, ended)) {
                    routed.addAll(virtualServer(in, ends, ended));
                }
            } else {
                routed.addAll(filter("FORWARD", nat.state(), ends, ended));
            }
            for (State s : routed) {
                for (Result r : walk("nat", "POSTROUTING", s.step("nat POSTROUTING"), 0)) {
                    if (r.verdict() == Verdict.DROP) {
                        finish(r.state(), PathEnd.Kind.DROP, ends, ended);
                        continue;
                    }
                    State post = r.verdict() == Verdict.MASQUERADE ? r.state().masqueraded() : r.state();
                    PathEnd.Kind kind = post.dnat() != null
                            ? PathEnd.Kind.DNAT
                            : post.accepted() ? PathEnd.Kind.ACCEPT : PathEnd.Kind.UNTOUCHED;
                    finish(post, kind, ends, ended);
                }
            }
        }
        return Trace.of(ends, ended.stream().map(State::steps).toList());
    }

    private static void finish(State s, PathEnd.Kind kind, List<PathEnd> ends, List<State> ended) {
        ends.add(new PathEnd(kind, s.dnat(), s.masq(), s.sticky()));
        ended.add(s);
    }

    /** A filter hook: the paths that go on (DROP/REJECT ones end here). */
    private List<State> filter(String hook, State s, List<PathEnd> ends, List<State> ended) {
        List<State> on = new ArrayList<>();
        for (Result r : walk("filter", hook, s.step("filter " + hook), 0)) {
            switch (r.verdict()) {
                case DROP -> finish(r.state(), PathEnd.Kind.DROP, ends, ended);
                case REJECT -> finish(r.state(), PathEnd.Kind.REJECT, ends, ended);
                case ACCEPT -> on.add(r.state().acceptedByFilter());
                case RETURN -> on.add(r.state());
                default -> throw new IllegalStateException(r.verdict() + " in filter " + hook);
            }
        }
        return on;
    }

    /** IPVS: a virtual server for the destination sends each new connection to one of its real servers. */
    private List<State> virtualServer(State s, List<PathEnd> ends, List<State> ended) {
        if (s.dnat() != null) {
            return List.of(s);
        }
        Headers h = s.headers();
        VirtualServers.Virtual v = ipvs.lookup(h.protocol(), h.destination(), h.port());
        if (v == null) {
            return List.of(s);
        }
        if (v.realServers().isEmpty()) {
            // ip_vs_leave: no destination available, ICMP port unreachable to the client.
            finish(s.step("ipvs " + h.destination() + ":" + h.port() + " has no real server"), PathEnd.Kind.REJECT, ends, ended);
            return List.of();
        }
        List<State> out = new ArrayList<>();
        for (String real : v.realServers()) {
            out.add(s.step("ipvs " + h.destination() + ":" + h.port() + " -> " + real).takenByIpvs().dnatTo(real, v.persistenceSeconds()));
        }
        return out;
    }

    /** The results of running one chain: every way out of it (fell off the end or RETURN = RETURN). */
    private List<Result> walk(String table, String chain, State start, int depth) {
        if (depth > 32) {
            throw new IllegalStateException("jump loop at " + table + "/" + chain);
        }
        List<String> rules = netfilter.rules(family, table, chain);
        if (rules == null) {
            throw new IllegalStateException("no chain " + table + "/" + chain);
        }
        List<Result> done = new ArrayList<>();
        List<State> live = new ArrayList<>(List.of(start));
        for (int index = 0; index < rules.size(); index++) {
            String text = rules.get(index);
            Rule rule = parsed.computeIfAbsent(text, Rule::parse);
            String position = table + "/" + chain + "#" + index;
            List<State> next = new ArrayList<>();
            for (State s : live) {
                Match m = matches(rule, s, position);
                if (m == Match.NO) {
                    next.add(s);
                    continue;
                }
                if (m == Match.MAYBE) {
                    // Not matching this time; an --rcheck was still consulted, so a later packet will be too.
                    next.add(rule.rcheckName == null ? s : s.rcheck(rule.rcheckName, rule.rcheckSeconds));
                }
                State hit = s.step(table + "/" + chain + ": " + text);
                if (rule.rcheckName != null) {
                    hit = hit.rcheck(rule.rcheckName, rule.rcheckSeconds);
                }
                if (rule.recentSetName != null) {
                    hit = hit.recentSet(rule.recentSetName);
                }
                act(table, rule, hit, depth, next, done);
            }
            live = next;
        }
        live.forEach(s -> done.add(new Result(s, Verdict.RETURN)));
        return done;
    }

    private void act(String table, Rule rule, State s, int depth, List<State> next, List<Result> done) {
        String target = rule.target;
        switch (target) {
            case "" -> next.add(s);
            case "MARK" -> next.add(s.withMark(rule.mark(s.mark())));
            case "HMARK" -> next.add(s.withMark(rule.hmark(s.headers())));
            case "ACCEPT" -> done.add(new Result(s, Verdict.ACCEPT));
            case "DROP" -> done.add(new Result(s, Verdict.DROP));
            case "REJECT" -> done.add(new Result(s, Verdict.REJECT));
            case "RETURN" -> done.add(new Result(s, Verdict.RETURN));
            case "DNAT" -> done.add(new Result(s.dnatTo(rule.option("--to-destination"), s.sticky()), Verdict.DNAT));
            case "MASQUERADE" -> done.add(new Result(s, Verdict.MASQUERADE));
            default -> {
                if (Character.isLowerCase(target.charAt(0)) || target.equals("SNAT") || target.equals("LOG")) {
                    throw new IllegalStateException("target " + target + " not understood: " + rule.text);
                }
                for (Result r : walk(table, target, s, depth + 1)) {
                    if (r.verdict() != Verdict.RETURN) {
                        done.add(r);
                    } else if (rule.gotoChain) {
                        // -g: a RETURN there returns from this chain too.
                        done.add(r);
                    } else {
                        next.add(r.state());
                    }
                }
            }
        }
    }

    private enum Match {
        NO, YES, MAYBE
    }

    private Match matches(Rule rule, State s, String position) {
        Headers h = s.headers();
        boolean maybe = false;
        for (Condition c : rule.conditions) {
            boolean result;
            switch (c.option) {
                case "-s" -> result = Cidr.parse(c.value).contains(h.source());
                case "-d" -> result = Cidr.parse(c.value).contains(h.destination());
                case "-p" -> result = c.value.equals(h.protocol());
                case "--dport" -> result = Integer.parseInt(c.value) == h.port();
                case "--src-type" -> result = typeMatches(c.value, h.source());
                case "--dst-type" -> result = typeMatches(c.value, h.destination());
                case "--mark" -> {
                    String[] vm = c.value.split("/");
                    long value = Long.decode(vm[0]);
                    long mask = vm.length > 1 ? Long.decode(vm[1]) : 0xffffffffL;
                    result = (s.mark() & mask) == value;
                }
                case "--ctstate" -> {
                    Set<String> states = Set.of(c.value.split(","));
                    result = states.contains("NEW") || (s.dnat() != null && states.contains("DNAT"));
                }
                case "--match-set" -> result = ipsets.contains(c.value, c.extra, h);
                // -m ipvs: the packet belongs to an IPVS connection of that virtual service (xt_ipvs); a first packet
                // does only once IPVS took it, after nat OUTPUT (LOCAL_OUT) or filter INPUT (LOCAL_IN).
                case "--vaddr" -> result = s.virtual() != null && Cidr.parse(c.value).contains(s.virtual().destination());
                // iptables-save prints the protocol's number (6, 17, 132); kube-ferry writes its name.
                case "--vproto" -> result = s.virtual() != null && (c.value.equals(s.virtual().protocol())
                        || c.value.equals(Map.of("tcp", "6", "udp", "17", "sctp", "132").get(s.virtual().protocol())));
                case "--vport" -> result = s.virtual() != null && Integer.parseInt(c.value) == s.virtual().port();
                case "--probability" -> {
                    if (c.negated) {
                        throw new IllegalStateException("negated " + c.option + " not understood: " + rule.text);
                    }
                    if (draws != null) {
                        // xt_statistic: (get_random_u32() & 0x7FFFFFFF) < probability * 2^31.
                        long threshold = (long) (Double.parseDouble(c.value) * 0x80000000L);
                        result = (draws.nextInt() & 0x7fffffffL) < threshold;
                    } else {
                        maybe = true;
                        result = true;
                    }
                }
                case "--every" -> {
                    if (c.negated) {
                        throw new IllegalStateException("negated " + c.option + " not understood: " + rule.text);
                    }
                    if (draws != null) {
                        int every = Integer.parseInt(c.value) - 1;
                        int count = nthCounters.getOrDefault(position, Integer.parseInt(c.extra));
                        int next = count == every ? 0 : count + 1;
                        nthCounters.put(position, next);
                        result = next == 0;
                    } else {
                        maybe = true;
                        result = true;
                    }
                }
                case "--rcheck" -> {
                    if (c.negated) {
                        throw new IllegalStateException("negated " + c.option + " not understood: " + rule.text);
                    }
                    maybe = true;
                    result = true;
                }
                default -> throw new IllegalStateException("match " + c.option + " not understood: " + rule.text);
            }
            if (result == c.negated) {
                return Match.NO;
            }
        }
        return maybe ? Match.MAYBE : Match.YES;
    }

    private boolean typeMatches(String type, String ip) {
        if (!type.equals("LOCAL")) {
            throw new IllegalStateException("addrtype " + type + " not understood");
        }
        return local(ip);
    }

    private record Condition(String option, String value, String extra, boolean negated) {
    }

    /** One rule, split into the conditions the tracer evaluates and the target with its options. */
    private static final class Rule {

        /** Options that only name a module or carry no condition. */
        private static final Set<String> NO_CONDITION = Set.of("--comment", "--mode", "--nfacct-name", "--reap", "--seconds", "--name");

        final String text;
        final List<Condition> conditions = new ArrayList<>();
        String target = "";
        boolean gotoChain;
        final Map<String, String> targetOptions = new HashMap<>();
        String rcheckName;
        int rcheckSeconds;
        String recentSetName;

        private Rule(String text) {
            this.text = text;
        }

        String option(String name) {
            String v = targetOptions.get(name);
            if (v == null) {
                throw new IllegalStateException("target option " + name + " missing: " + text);
            }
            return v;
        }

        long mark(long current) {
            if (targetOptions.containsKey("--or-mark")) {
                return current | Long.decode(targetOptions.get("--or-mark"));
            }
            if (targetOptions.containsKey("--xor-mark")) {
                return current ^ Long.decode(targetOptions.get("--xor-mark"));
            }
            if (targetOptions.containsKey("--set-xmark")) {
                String[] vm = targetOptions.get("--set-xmark").split("/");
                long mask = vm.length > 1 ? Long.decode(vm[1]) : 0xffffffffL;
                return (current & ~mask) ^ Long.decode(vm[0]);
            }
            throw new IllegalStateException("MARK without a mark option: " + text);
        }

        /**
         * xt_HMARK for IPv4 without the ct flag: the addresses masked by their prefixes (a missing prefix hashes
         * nothing of that address, as {@code --hmark-src-prefix 32} alone means {@code --hmark-tuple src}), ports and
         * protocol only when their masks are given (kube-ferry gives none); smaller address first; jhash_3words with
         * the seed; reciprocal_scale into [0, mod), plus the offset. The result is the whole new mark.
         */
        long hmark(Headers h) {
            for (String o : targetOptions.keySet()) {
                if (!Set.of("--hmark-src-prefix", "--hmark-dst-prefix", "--hmark-rnd", "--hmark-mod", "--hmark-offset").contains(o)) {
                    throw new IllegalStateException("HMARK option " + o + " not understood: " + text);
                }
            }
            long src = masked(h.source(), targetOptions.get("--hmark-src-prefix"));
            long dst = masked(h.destination(), targetOptions.get("--hmark-dst-prefix"));
            if (dst < src) {
                long t = src;
                src = dst;
                dst = t;
            }
            int hash = Jhash.words3((int) src, (int) dst, 0, (int) (long) Long.decode(option("--hmark-rnd")));
            long mod = Long.decode(option("--hmark-mod"));
            long offset = Long.decode(targetOptions.getOrDefault("--hmark-offset", "0"));
            return (((hash & 0xffffffffL) * mod) >>> 32) + offset;
        }

        private static long masked(String ip, String prefix) {
            if (prefix == null) {
                return 0;
            }
            int bits = Integer.parseInt(prefix);
            if (ip.contains(":")) {
                // xt_HMARK's hmark_addr6_mask: the masked address's four 32-bit words XORed into one.
                java.math.BigInteger value = Cidr.parse(ip + "/128").network();
                java.math.BigInteger mask = bits == 0
                        ? java.math.BigInteger.ZERO
                        : java.math.BigInteger.ONE.shiftLeft(128).subtract(java.math.BigInteger.ONE.shiftLeft(128 - bits));
                java.math.BigInteger m = value.and(mask);
                long word = 0;
                for (int i = 0; i < 4; i++) {
                    word ^= m.shiftRight(32 * i).longValue() & 0xffffffffL;
                }
                return word;
            }
            long value = 0;
            for (String part : ip.split("\\.")) {
                value = (value << 8) | Integer.parseInt(part);
            }
            long mask = bits == 0 ? 0 : (0xffffffffL << (32 - bits)) & 0xffffffffL;
            return value & mask;
        }

        static Rule parse(String text) {
            Rule r = new Rule(text);
            List<String> w = FakeNetfilter.words(text);
            boolean negate = false;
            String recentName = null;
            boolean afterTarget = false;
            for (int i = 0; i < w.size(); i++) {
                String word = w.get(i);
                if (word.equals("!")) {
                    negate = true;
                    continue;
                }
                if (afterTarget) {
                    if (word.equals("--random-fully") || word.equals("--random")) {
                        continue;
                    }
                    r.targetOptions.put(word, w.get(++i));
                    continue;
                }
                switch (word) {
                    case "-m" -> i++;
                    case "-j", "-g" -> {
                        r.target = w.get(++i);
                        r.gotoChain = word.equals("-g");
                        afterTarget = true;
                    }
                    case "--match-set" -> {
                        r.conditions.add(new Condition(word, w.get(i + 1), w.get(i + 2), negate));
                        i += 2;
                    }
                    case "--every" -> {
                        // statistic nth: --every N [--packet P] (P defaults to 0).
                        String every = w.get(++i);
                        String packet = "0";
                        if (i + 2 < w.size() && w.get(i + 1).equals("--packet")) {
                            packet = w.get(i + 2);
                            i += 2;
                        }
                        r.conditions.add(new Condition("--every", every, packet, negate));
                    }
                    case "--rcheck" -> {
                        r.rcheckName = recentName;
                        r.conditions.add(new Condition(word, "", "", negate));
                    }
                    case "--set" -> r.recentSetName = recentName;
                    case "--reap" -> {
                    }
                    default -> {
                        if (!word.startsWith("-")) {
                            throw new IllegalStateException("cannot read rule at \"" + word + "\": " + text);
                        }
                        String value = w.get(++i);
                        if (word.equals("--name")) {
                            recentName = value;
                        } else if (word.equals("--seconds")) {
                            r.rcheckSeconds = Integer.parseInt(value);
                        } else if (!NO_CONDITION.contains(word)) {
                            r.conditions.add(new Condition(word, value, "", negate));
                        }
                    }
                }
                negate = false;
            }
            if (r.rcheckName == null && w.contains("--rcheck")) {
                throw new IllegalStateException("--rcheck without --name: " + text);
            }
            return r;
        }
    }
}
