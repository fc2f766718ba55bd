package io.kubeferry.proxy.testing;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.IpFamily;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An in-memory kernel that understands what it is fed: iptables-restore (with real --noflush semantics,
 * failing as the kernel would on a jump to a missing chain, deleting a chain still in use, deleting a rule
 * that is not there, or a missing COMMIT; a failed table changes nothing), iptables-save, the iptables
 * command, sysctl, {@code ip -o -4 addr show} and conntrack, the {@code -m ipvs} match's options (IPVS mode's
 * KUBE-IPVS-OUT-FILTER), and (once {@link #enableNfacct()} says the node has it)
 * the nfacct tool, whose counters {@code -m nfacct} rules must name. The nft and legacy flavours keep separate
 * tables, as in the kernel, and so do the two families: ip6tables-restore/-save/ip6tables (each flavour) program
 * their own IPv6 tables, which {@link #rules(IpFamily, String, String)} reads; {@code ip -o -6 addr show} lists
 * the IPv6 addresses of {@link #setAddresses}. Every command is recorded for assertions; failures can be injected.
 */
public final class FakeNetfilter implements ToolRunner {

    private static final Map<String, List<String>> BUILTIN = Map.of(
            "filter", List.of("INPUT", "FORWARD", "OUTPUT"),
            "nat", List.of("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
            "mangle", List.of("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
            "raw", List.of("PREROUTING", "OUTPUT"));
    private static final Set<String> TARGETS = Set.of("ACCEPT", "DROP", "REJECT", "RETURN", "MARK", "MASQUERADE",
            "DNAT", "SNAT", "LOG", "CONNMARK", "NOTRACK", "CT", "HMARK");

    /** flavour (nft, legacy; nft6, legacy6 for IPv6) -> table -> chain -> rules (rule text after "-A CHAIN ", whitespace-normalised). */
    private final Map<String, Map<String, Map<String, List<String>>>> flavours = new HashMap<>();
    private final List<ToolCommand> commands = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, String> sysctls = new HashMap<>();
    private final List<String> conntrack = new ArrayList<>();
    private final Deque<String[]> failures = new ArrayDeque<>();
    private List<String> addresses = List.of("127.0.0.1/8", "198.18.0.1/24");
    /** nfacct counter name -> packets; null while the node has no nfacct (tool and match both missing). */
    private Map<String, Long> nfacct;

    public FakeNetfilter() {
        for (String flavour : List.of("nft", "legacy", "nft6", "legacy6")) {
            flavours.put(flavour, emptyTables());
        }
    }

    /** Every command run so far, in order. */
    public List<ToolCommand> commands() {
        return List.copyOf(commands);
    }

    /** Commands whose program is {@code tool}. */
    public List<ToolCommand> commands(String tool) {
        return commands().stream().filter(c -> c.tool().equals(tool)).toList();
    }

    /** The next run of {@code tool} exits 1 with {@code stderr}, changing nothing. */
    public synchronized void failNext(String tool, String stderr) {
        failures.add(new String[] {tool, stderr});
    }

    public synchronized void setAddresses(List<String> cidrs) {
        addresses = List.copyOf(cidrs);
    }

    /** Adds a flow in {@code conntrack -L} format. */
    public synchronized void addConntrack(String line) {
        conntrack.add(line.trim());
    }

    public synchronized List<String> conntrackEntries() {
        return List.copyOf(conntrack);
    }

    /** From now on the node has the nfacct tool, the kernel's accounting objects and the iptables match. */
    public synchronized void enableNfacct() {
        if (nfacct == null) {
            nfacct = new LinkedHashMap<>();
        }
    }

    /** The nfacct counters and their packet counts (empty when nfacct is not enabled). */
    public synchronized Map<String, Long> nfacctCounters() {
        return nfacct == null ? Map.of() : Map.copyOf(nfacct);
    }

    /** Adds packets to an existing nfacct counter, as matching traffic would. */
    public synchronized void countNfacct(String name, long packets) {
        nfacct.merge(name, packets, Long::sum);
    }

    public synchronized String sysctl(String key) {
        return sysctls.get(key);
    }

    /** The rules of one chain (IPv4, nft flavour), or null when the chain does not exist. */
    public List<String> rules(String table, String chain) {
        return rules(IpFamily.IPv4, table, chain);
    }

    /** The rules of one chain of {@code family}'s tables (nft flavour: ip6tables-nft for IPv6), or null when there is none. */
    public synchronized List<String> rules(IpFamily family, String table, String chain) {
        List<String> rules = flavours.get(nft(family)).get(table).get(chain);
        return rules == null ? null : List.copyOf(rules);
    }

    /** The chains of one table (IPv4, nft flavour). */
    public Set<String> chains(String table) {
        return chains(IpFamily.IPv4, table);
    }

    /** The chains of one table of {@code family} (nft flavour). */
    public synchronized Set<String> chains(IpFamily family, String table) {
        return Set.copyOf(flavours.get(nft(family)).get(table).keySet());
    }

    private static String nft(IpFamily family) {
        return family == IpFamily.IPv4 ? "nft" : "nft6";
    }

    /** Removes every user chain and rule of both families, like someone running iptables -F/-X and ip6tables -F/-X. */
    public synchronized void flushEverything() {
        flavours.put("nft", emptyTables());
        flavours.put("nft6", emptyTables());
    }

    @Override
    public ToolResult run(ToolCommand command) throws ToolException {
        ToolResult result = runAllowingFailure(command);
        if (!result.ok()) {
            throw new ToolException(command.display() + " exited " + result.exitCode() + ": " + result.stderr(), result);
        }
        return result;
    }

    @Override
    public synchronized ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
        commands.add(command);
        Iterator<String[]> it = failures.iterator();
        while (it.hasNext()) {
            String[] f = it.next();
            if (f[0].equals(command.tool())) {
                it.remove();
                return new ToolResult(1, "", f[1]);
            }
        }
        String tool = command.tool();
        String flavour = (tool.contains("legacy") ? "legacy" : "nft") + (tool.startsWith("ip6tables") ? "6" : "");
        try {
            if (tool.matches("ip6?tables(-nft|-legacy)?-restore")) {
                return restore(flavours.get(flavour), command.stdinText(), command.args().contains("--noflush"), flavour);
            }
            if (tool.matches("ip6?tables(-nft|-legacy)?-save")) {
                return ok(save(flavours.get(flavour), option(command.args(), "-t")));
            }
            if (tool.matches("ip6?tables(-nft|-legacy)?")) {
                return iptables(flavours.get(flavour), command.args());
            }
            return switch (tool) {
                case "sysctl" -> sysctlCommand(command.args());
                case "ip" -> ipCommand(command.args());
                case "conntrack" -> conntrackCommand(command.args());
                case "nfacct" -> {
                    if (nfacct == null) {
                        throw new io.kubeferry.proxy.exec.ToolNotFoundException("nfacct", "tool not found: nfacct");
                    }
                    yield nfacctCommand(command.args());
                }
                default -> throw new io.kubeferry.proxy.exec.ToolNotFoundException(tool, "tool not found: " + tool);

            };
        } catch (Failure e) {
            return new ToolResult(e.code, "", e.getMessage());
        }
    }

    private static ToolResult ok(String out) {
        return new ToolResult(0, out, "");
    }

    private static final class Failure extends Exception {

        private static final long serialVersionUID = 1L;
        final int code;

        Failure(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    private static Map<String, Map<String, List<String>>> emptyTables() {
        Map<String, Map<String, List<String>>> tables = new LinkedHashMap<>();
        BUILTIN.forEach((table, chains) -> tables.put(table, emptyTable(table)));
        return tables;
    }

    private static Map<String, List<String>> emptyTable(String table) {
        Map<String, List<String>> chains = new LinkedHashMap<>();
        for (String chain : BUILTIN.get(table)) {
            chains.put(chain, new ArrayList<>());
        }
        return chains;
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> table) {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        table.forEach((k, v) -> copy.put(k, new ArrayList<>(v)));
        return copy;
    }

    private static String normalise(String rule) {
        return rule.trim().replaceAll("\\s+", " ");
    }

    private ToolResult restore(Map<String, Map<String, List<String>>> kernel, String input, boolean noflush, String flavour)
            throws Failure {
        String table = null;
        Map<String, List<String>> work = null;
        int lineNo = 0;
        for (String raw : input.split("\n")) {
            lineNo++;
            String line = raw.trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("*")) {
                if (table != null) {
                    throw new Failure(1, "iptables-restore: line " + lineNo + " failed: table " + table + " not committed");
                }
                table = line.substring(1);
                if (!BUILTIN.containsKey(table)) {
                    throw new Failure(1, "iptables-restore: line " + lineNo + " failed: can't initialize table '" + table + "'");
                }
                work = noflush ? copy(kernel.get(table)) : emptyTable(table);
            } else if (table == null) {
                throw new Failure(1, "iptables-restore: line " + lineNo + " failed: no table");
            } else if (line.equals("COMMIT")) {
                kernel.put(table, work);
                table = null;
            } else if (line.startsWith(":")) {
                String chain = line.substring(1).split(" ")[0];
                if (BUILTIN.get(table).contains(chain)) {
                    continue;
                }
                work.put(chain, new ArrayList<>());
            } else {
                apply(work, table, line, lineNo);
            }
        }
        if (table != null) {
            throw new Failure(1, "iptables-restore: COMMIT expected at line " + (lineNo + 1));
        }
        return ok("");
    }

    /** One rule command of a restore (or of the iptables command): -A, -I, -D, -F, -X, -N. */
    private void apply(Map<String, List<String>> work, String table, String line, int lineNo) throws Failure {
        String[] parts = line.split("\\s+", 3);
        String op = parts[0];
        String chain = parts.length > 1 ? parts[1] : "";
        String rest = parts.length > 2 ? normalise(parts[2]) : "";
        String where = "line " + lineNo + " failed: ";
        switch (op) {
            case "-N" -> {
                if (work.containsKey(chain)) {
                    throw new Failure(1, where + "chain " + chain + " already exists");
                }
                work.put(chain, new ArrayList<>());
            }
            case "-A", "-I" -> {
                List<String> rules = work.get(chain);
                if (rules == null) {
                    throw new Failure(1, where + "chain " + chain + " does not exist");
                }
                checkTarget(work, rest, where);
                checkArguments(rest, where);
                checkNfacct(rest, where);
                checkIpvs(rest, where);
                String rule = rest;
                if (op.equals("-I") && rest.matches("\\d+ .*")) {
                    int position = Integer.parseInt(rest.substring(0, rest.indexOf(' '))) - 1;
                    rule = rest.substring(rest.indexOf(' ') + 1);
                    rules.add(Math.min(position, rules.size()), rule);
                } else if (op.equals("-I")) {
                    rules.add(0, rule);
                } else {
                    rules.add(rule);
                }
            }
            case "-D" -> {
                List<String> rules = work.get(chain);
                if (rules == null || !rules.remove(rest)) {
                    throw new Failure(1, where + "Bad rule (does a matching rule exist in that chain?)");
                }
            }
            case "-F" -> {
                if (!work.containsKey(chain)) {
                    throw new Failure(1, where + "chain " + chain + " does not exist");
                }
                work.get(chain).clear();
            }
            case "-X" -> {
                List<String> rules = work.get(chain);
                if (rules == null) {
                    throw new Failure(1, where + "chain " + chain + " does not exist");
                }
                if (!rules.isEmpty()) {
                    throw new Failure(1, where + "chain " + chain + " is not empty");
                }
                for (Map.Entry<String, List<String>> other : work.entrySet()) {
                    for (String rule : other.getValue()) {
                        if (jumpTarget(rule).equals(chain)) {
                            throw new Failure(1, where + "chain " + chain + " is still referenced from " + other.getKey());
                        }
                    }
                }
                work.remove(chain);
            }
            default -> throw new Failure(1, where + "unknown command " + op + " in table " + table);
        }
    }

    /**
     * What iptables-restore's tokenizer rejects: a quoted string left open (a name with a quote or a line
     * break in it cut the rule short), control characters, a comment over the kernel's 255 characters.
     */
    private static void checkArguments(String rule, String where) throws Failure {
        for (int i = 0; i < rule.length(); i++) {
            char c = rule.charAt(i);
            if (c < 0x20 && c != '\t') {
                throw new Failure(2, where + "Bad argument: control character in rule");
            }
        }
        List<String> words;
        try {
            words = words(rule);
        } catch (IllegalArgumentException e) {
            throw new Failure(2, where + "Bad argument: " + e.getMessage());
        }
        for (int i = 0; i + 1 < words.size(); i++) {
            if (words.get(i).equals("--comment") && words.get(i + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255) {
                throw new Failure(2, where + "comment: COMMENT may not exceed 256 characters");
            }
        }
    }

    /**
     * Splits a rule as iptables-restore's tokenizer does: words separated by blanks, a "double quoted" one kept
     * whole (backslash escapes inside quotes).
     *
     * @throws IllegalArgumentException when a quoted string is left open
     */
    public static List<String> words(String rule) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean quoted = false;
        boolean inWord = false;
        for (int i = 0; i < rule.length(); i++) {
            char c = rule.charAt(i);
            if (quoted && c == '\\' && i + 1 < rule.length()) {
                word.append(rule.charAt(++i));
            } else if (c == '"') {
                quoted = !quoted;
                inWord = true;
            } else if (!quoted && (c == ' ' || c == '\t')) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("unterminated quoted string");
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    private static void checkTarget(Map<String, List<String>> work, String rule, String where) throws Failure {
        String target = jumpTarget(rule);
        if (!target.isEmpty() && !TARGETS.contains(target) && !work.containsKey(target)) {
            throw new Failure(2, where + "Couldn't load target `" + target + "':No such file or directory");
        }
    }

    /** xt_ipvs's options (libxt_ipvs), what may follow {@code -m ipvs}; only --ipvs takes no value. */
    private static final Set<String> IPVS_OPTIONS = Set.of("--ipvs", "--vproto", "--vaddr", "--vport", "--vportctl", "--vdir",
            "--vmethod");

    /**
     * A {@code -m ipvs} match (IPVS mode's KUBE-IPVS-OUT-FILTER: {@code --vaddr/--vproto/--vport}) takes only the
     * match's own options, each with its value but --ipvs and --vdir's; anything else is refused as iptables does.
     */
    private static void checkIpvs(String rule, String where) throws Failure {
        List<String> w = words(rule);
        for (int i = 0; i + 1 < w.size(); i++) {
            if (!(w.get(i).equals("-m") && w.get(i + 1).equals("ipvs"))) {
                continue;
            }
            int j = i + 2;
            boolean any = false;
            while (j < w.size() && !Set.of("-m", "-j", "-g").contains(w.get(j)) && (w.get(j).startsWith("--") || w.get(j).equals("!"))) {
                String option = w.get(j++);
                if (option.equals("!")) {
                    continue;
                }
                if (!IPVS_OPTIONS.contains(option)) {
                    throw new Failure(2, where + "unknown option \"" + option + "\"");
                }
                any = true;
                if (!option.equals("--ipvs") && !option.equals("--vdir")) {
                    if (j >= w.size() || w.get(j).startsWith("-")) {
                        throw new Failure(2, where + "option \"" + option + "\" requires an argument");
                    }
                    j++;
                }
            }
            if (!any) {
                throw new Failure(2, where + "ipvs: no option given");
            }
        }
    }

    /** An nfacct match needs the match (nfacct enabled) and an existing counter, or the rule is refused. */
    private void checkNfacct(String rule, String where) throws Failure {
        String name = null;
        String[] words = rule.split(" ");
        for (int i = 0; i + 1 < words.length; i++) {
            if (words[i].equals("--nfacct-name")) {
                name = words[i + 1];
            }
        }
        if (!rule.contains("-m nfacct")) {
            return;
        }
        if (nfacct == null) {
            throw new Failure(2, where + "Couldn't load match `nfacct':No such file or directory");
        }
        if (name == null || !nfacct.containsKey(name)) {
            throw new Failure(4, where + "RULE_APPEND failed (No such file or directory)");
        }
    }

    private ToolResult nfacctCommand(List<String> args) throws Failure {
        String op = args.isEmpty() ? "list" : args.get(0);
        String name = args.size() > 1 ? args.get(1) : null;
        switch (op) {
            case "list" -> {
                StringBuilder out = new StringBuilder();
                nfacct.forEach((counter, packets) -> out.append(nfacctLine(counter, packets)));
                return ok(out.toString());
            }
            case "get" -> {
                if (name == null || !nfacct.containsKey(name)) {
                    throw new Failure(1, "nfacct v1.0.2: error: No such file or directory");
                }
                return ok(nfacctLine(name, nfacct.get(name)));
            }
            case "add" -> {
                if (name == null || name.length() > 31) {
                    throw new Failure(1, "nfacct v1.0.2: error: Invalid argument");
                }
                if (nfacct.containsKey(name)) {
                    throw new Failure(1, "nfacct v1.0.2: error: Device or resource busy");
                }
                nfacct.put(name, 0L);
                return ok("");
            }
            default -> throw new Failure(1, "FakeNetfilter: unsupported nfacct command " + args);
        }
    }

    private static String nfacctLine(String name, long packets) {
        return String.format("{ pkts = %020d, bytes = %020d } = %s;%n", packets, packets * 60, name);
    }

    private static String jumpTarget(String rule) {
        String[] words = rule.split(" ");
        for (int i = 0; i + 1 < words.length; i++) {
            if (words[i].equals("-j") || words[i].equals("-g")) {
                return words[i + 1];
            }
        }
        return "";
    }

    private static String save(Map<String, Map<String, List<String>>> tables, String onlyTable) {
        StringBuilder out = new StringBuilder("# Generated by FakeNetfilter\n");
        for (Map.Entry<String, Map<String, List<String>>> table : tables.entrySet()) {
            if (onlyTable != null && !onlyTable.equals(table.getKey())) {
                continue;
            }
            out.append('*').append(table.getKey()).append('\n');
            for (String chain : table.getValue().keySet()) {
                boolean builtin = BUILTIN.get(table.getKey()).contains(chain);
                out.append(':').append(chain).append(builtin ? " ACCEPT" : " -").append(" [0:0]\n");
            }
            table.getValue()
                    .forEach((chain, rules) -> rules.forEach(r -> out.append("-A ").append(chain).append(' ').append(r).append('\n')));
            out.append("COMMIT\n");
        }
        return out.toString();
    }

    private ToolResult iptables(Map<String, Map<String, List<String>>> kernel, List<String> args) throws Failure {
        List<String> rest = new ArrayList<>();
        String table = "filter";
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-t")) {
                table = args.get(++i);
            } else if (a.equals("-w") || a.equals("-W")) {
                i++;
            } else {
                rest.add(a);
            }
        }
        if (!kernel.containsKey(table)) {
            throw new Failure(3, "iptables: can't initialize table '" + table + "'");
        }
        String op = rest.get(0);
        String chain = rest.size() > 1 ? rest.get(1) : "";
        Map<String, List<String>> work = copy(kernel.get(table));
        if (op.equals("-S")) {
            List<String> rules = work.get(chain);
            if (rules == null) {
                throw new Failure(1, "iptables: No chain/target/match by that name.");
            }
            StringBuilder out = new StringBuilder("-N " + chain + "\n");
            rules.forEach(r -> out.append("-A ").append(chain).append(' ').append(r).append('\n'));
            return ok(out.toString());
        }
        if (op.equals("-C")) {
            List<String> rules = work.get(chain);
            String rule = normalise(String.join(" ", rest.subList(2, rest.size())));
            if (rules == null || !rules.contains(rule)) {
                throw new Failure(1, "iptables: Bad rule (does a matching rule exist in that chain?).");
            }
            return ok("");
        }
        apply(work, table, String.join(" ", rest), 1);
        kernel.put(table, work);
        return ok("");
    }

    private String option(List<String> args, String name) {
        int i = args.indexOf(name);
        return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : null;
    }

    private ToolResult sysctlCommand(List<String> args) throws Failure {
        if (args.contains("-w")) {
            StringBuilder out = new StringBuilder();
            for (String arg : args) {
                if (!arg.startsWith("-")) {
                    String[] kv = arg.split("=", 2);
                    sysctls.put(kv[0], kv[1]);
                    out.append(kv[0]).append(" = ").append(kv[1]).append('\n');
                }
            }
            return ok(out.toString());
        }
        String key = args.get(args.size() - 1);
        String value = sysctls.get(key);
        if (value == null) {
            throw new Failure(255, "sysctl: cannot stat /proc/sys/" + key.replace('.', '/') + ": No such file or directory");
        }
        return ok(value + "\n");
    }

    private ToolResult ipCommand(List<String> args) throws Failure {
        String shown = String.join(" ", args);
        if (shown.equals("-o -4 addr show") || shown.equals("-o -6 addr show")) {
            boolean v6 = shown.contains("-6");
            StringBuilder out = new StringBuilder();
            int index = 1;
            for (String cidr : addresses) {
                if (cidr.contains(":") != v6) {
                    continue;
                }
                String dev = cidr.startsWith("127.") || cidr.startsWith("::1/") ? "lo" : "eth" + (index - 1);
                out.append(index++).append(": ").append(dev).append(v6 ? "    inet6 " : "    inet ").append(cidr).append(" scope global ")
                        .append(dev).append('\n');
            }
            return ok(out.toString());
        }
        throw new Failure(1, "FakeNetfilter: unsupported ip command " + args);
    }

    private ToolResult conntrackCommand(List<String> args) throws Failure {
        String protocol = option(args, "-p");
        if (args.contains("-L")) {
            StringBuilder out = new StringBuilder();
            for (String entry : conntrack) {
                if (protocol == null || entry.startsWith(protocol + " ")) {
                    out.append(entry).append('\n');
                }
            }
            return new ToolResult(0, out.toString(),
                    "conntrack v1.4.7 (conntrack-tools): " + conntrack.size() + " flow entries have been shown.\n");
        }
        if (args.contains("-D")) {
            List<ConntrackFilter> given = CONNTRACK_FILTERS.stream().filter(f -> option(args, f.option()) != null).toList();
            int before = conntrack.size();
            // --dst-nat (no value): the flow was DNATed, which in -L output shows as a reply source other than the
            // original destination.
            boolean dnatOnly = args.contains("--dst-nat");
            conntrack.removeIf(e -> (protocol == null || e.startsWith(protocol + " ")) && given.stream()
                    .allMatch(f -> option(args, f.option()).equals(conntrackField(e, f.field(), f.direction())))
                    && (!dnatOnly || !conntrackField(e, "src=", 1).equals(conntrackField(e, "dst=", 0))));
            int removed = before - conntrack.size();
            if (removed == 0) {
                throw new Failure(1, "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.");
            }
            return new ToolResult(0, "", "conntrack v1.4.7 (conntrack-tools): " + removed + " flow entries have been deleted.\n");
        }
        throw new Failure(1, "FakeNetfilter: unsupported conntrack command " + args);
    }

    /** A conntrack -D filter: its option and the field it matches, in the original (0) or reply (1) direction. */
    private record ConntrackFilter(String option, String field, int direction) {
    }

    private static final List<ConntrackFilter> CONNTRACK_FILTERS = List.of(new ConntrackFilter("--orig-src", "src=", 0),
            new ConntrackFilter("--orig-dst", "dst=", 0), new ConntrackFilter("--sport", "sport=", 0),
            new ConntrackFilter("--dport", "dport=", 0), new ConntrackFilter("--orig-port-dst", "dport=", 0),
            new ConntrackFilter("--reply-src", "src=", 1), new ConntrackFilter("--reply-port-src", "sport=", 1));

    /** The value of a {@code key=} field in a conntrack -L line, its nth occurrence (0 original, 1 reply direction). */
    private static String conntrackField(String entry, String key, int nth) {
        int seen = 0;
        for (String field : entry.split("\\s+")) {
            if (field.startsWith(key) && seen++ == nth) {
                return field.substring(key.length());
            }
        }
        return null;
    }
}
