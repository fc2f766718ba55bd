package io.kubeferry.ipvs;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.testing.FakeNetfilter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An IPVS kernel for unit tests: interprets ipvsadm (-R, -Sn, -Lnc, --set), ipset (restore, save, list -n),
 * the ip commands IPVS mode runs (kube-ipvs0, its addresses of either family, -batch) and modprobe; iptables,
 * ip6tables and sysctl go to a {@link FakeNetfilter}. As in the kernel, both families share one IPVS table, one
 * kube-ipvs0 and one ipset namespace. Every command is recorded, so tests can assert what a sync ran.
 */
final class FakeIpvsKernel implements ToolRunner {

    final FakeNetfilter netfilter = new FakeNetfilter();
    /** Virtual server save line ("-A -t 198.19.0.1:80 -s rr") by key "-t 198.19.0.1:80". */
    final Map<String, String> services = new LinkedHashMap<>();
    /** Real server save lines by virtual key. */
    final Map<String, Map<String, String>> reals = new LinkedHashMap<>();
    final Map<String, TreeSet<String>> ipsets = new TreeMap<>();
    final Map<String, TreeSet<String>> links = new TreeMap<>();
    final List<ToolCommand> commands = new ArrayList<>();
    Set<String> schedulerModules = Set.of("rr", "wrr", "lc", "wlc", "sh", "mh");
    /** False: a kernel built without IPVS, where every ipvsadm command fails as the real one does. */
    boolean ipvsInKernel = true;
    /** Non-null: ipvsadm fails with this stderr (e.g. "Permission denied (you must be root)"). */
    String ipvsadmDenied;
    /** False: a kernel booted with ipv6.disable=1, which has no net.ipv6 sysctls at all. */
    boolean ipv6InKernel = true;
    String connections = "IPVS connection entries\npro expire state       source             virtual            destination\n";

    FakeIpvsKernel() {
        links.put("eth0", new TreeSet<>(List.of("198.18.1.1")));
        links.put("lo", new TreeSet<>(List.of("127.0.0.1")));
        try {
            netfilter.runAllowingFailure(ToolCommand.of("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=0"));
        } catch (ToolException e) {
            throw new IllegalStateException(e);
        }
    }

    List<ToolCommand> commands(String tool) {
        return commands.stream().filter(c -> c.tool().equals(tool)).toList();
    }

    @Override
    public ToolResult run(ToolCommand command) throws ToolException {
        ToolResult r = runAllowingFailure(command);
        if (!r.ok()) {
            throw new ToolException(command.display() + ": " + r.stderr(), r);
        }
        return r;
    }

    @Override
    public synchronized ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
        commands.add(command);
        List<String> a = command.args();
        return switch (command.tool()) {
            case "ipvsadm" -> ipvsadm(a, command.stdinText());
            case "ipset" -> ipset(a, command.stdinText());
            case "ip" -> ip(a, command.stdinText());
            case "sysctl" -> !ipv6InKernel && a.stream().anyMatch(k -> k.startsWith("net.ipv6."))
                    ? new ToolResult(255, "", "sysctl: cannot stat /proc/sys/net/ipv6/conf/all/disable_ipv6: No such file or directory")
                    : netfilter.runAllowingFailure(command);
            case "modprobe" -> schedulerModules.contains(a.get(a.size() - 1).replace("ip_vs_", ""))
                    || a.get(a.size() - 1).equals("ip_vs") ? ok("") : fail("module not found");
            default -> netfilter.runAllowingFailure(command);
        };
    }

    private ToolResult ipvsadm(List<String> a, String stdin) {
        if (!ipvsInKernel) {
            return new ToolResult(2, "", "Can't initialize ipvs: Protocol not available\n"
                    + "Are you sure that IP Virtual Server is built in the kernel or as module?\n");
        }
        if (ipvsadmDenied != null) {
            return new ToolResult(2, "", ipvsadmDenied);
        }
        if (a.equals(List.of("-Ln"))) {
            return ok("IP Virtual Server version 1.2.1 (size=4096)\n");
        }
        if (a.equals(List.of("-Sn"))) {
            StringBuilder out = new StringBuilder();
            services.forEach((key, line) -> {
                out.append(line).append('\n');
                reals.getOrDefault(key, Map.of()).values().forEach(r -> out.append(r).append('\n'));
            });
            return ok(out.toString());
        }
        if (a.equals(List.of("-Lnc"))) {
            return ok(connections);
        }
        if (a.get(0).equals("--set")) {
            return ok("");
        }
        if (a.equals(List.of("-R"))) {
            for (String line : stdin.split("\n")) {
                if (line.isBlank())
                    continue;
                String[] t = line.trim().split("\\s+");
                String key = t[1] + " " + t[2];
                switch (t[0]) {
                    case "-A" -> {
                        if (services.containsKey(key))
                            return fail("Service already exists: " + line);
                        int sched = java.util.Arrays.asList(t).indexOf("-s");
                        if (sched > 0 && !schedulerModules.contains(t[sched + 1]))
                            return fail("Memory allocation problem");
                        services.put(key, line);
                    }
                    case "-E" -> {
                        if (!services.containsKey(key))
                            return fail("No such service: " + line);
                        services.put(key, line.replaceFirst("^-E", "-A"));
                    }
                    case "-D" -> {
                        if (services.remove(key) == null)
                            return fail("No such service: " + line);
                        reals.remove(key);
                    }
                    case "-a", "-e", "-d" -> {
                        if (!services.containsKey(key))
                            return fail("No such service: " + line);
                        String rs = t[4];
                        Map<String, String> m = reals.computeIfAbsent(key, k -> new LinkedHashMap<>());
                        if (t[0].equals("-a")) {
                            if (m.containsKey(rs))
                                return fail("Destination already exists: " + line);
                            m.put(rs, line);
                        } else if (t[0].equals("-e")) {
                            if (!m.containsKey(rs))
                                return fail("No such destination: " + line);
                            m.put(rs, line.replaceFirst("^-e", "-a"));
                        } else if (m.remove(rs) == null) {
                            return fail("No such destination: " + line);
                        }
                    }
                    default -> {
                        return fail("unknown ipvsadm line: " + line);
                    }
                }
            }
            return ok("");
        }
        return fail("unsupported ipvsadm " + a);
    }

    private ToolResult ipset(List<String> a, String stdin) {
        if (a.equals(List.of("save"))) {
            StringBuilder out = new StringBuilder();
            ipsets.forEach((name, members) -> {
                out.append("create ").append(name).append(" hash:ip,port\n");
                members.forEach(m -> out.append("add ").append(name).append(' ').append(m).append('\n'));
            });
            return ok(out.toString());
        }
        if (a.equals(List.of("list", "-n"))) {
            return ok(String.join("\n", ipsets.keySet()) + (ipsets.isEmpty() ? "" : "\n"));
        }
        if (a.get(0).equals("restore")) {
            boolean exist = a.contains("-exist");
            for (String line : stdin.split("\n")) {
                if (line.isBlank())
                    continue;
                String[] t = line.trim().split("\\s+");
                switch (t[0]) {
                    case "create" -> {
                        if (ipsets.containsKey(t[1]) && !exist)
                            return fail("set already exists: " + t[1]);
                        ipsets.putIfAbsent(t[1], new TreeSet<>());
                    }
                    case "add" -> {
                        if (!ipsets.containsKey(t[1]))
                            return fail("The set with the given name does not exist: " + t[1]);
                        if (!ipsets.get(t[1]).add(t[2]) && !exist)
                            return fail("Element cannot be added: it's already added");
                    }
                    case "del" -> {
                        if (!ipsets.containsKey(t[1]))
                            return fail("The set with the given name does not exist: " + t[1]);
                        if (!ipsets.get(t[1]).remove(t[2]) && !exist)
                            return fail("Element cannot be deleted: it's not added");
                    }
                    case "destroy" -> {
                        if (ipsets.remove(t[1]) == null)
                            return fail("The set with the given name does not exist: " + t[1]);
                    }
                    default -> {
                        return fail("unknown ipset line: " + line);
                    }
                }
            }
            return ok("");
        }
        return fail("unsupported ipset " + a);
    }

    private ToolResult ip(List<String> a, String stdin) {
        String joined = String.join(" ", a);
        if (joined.equals("-batch -")) {
            for (String line : stdin.split("\n")) {
                if (line.isBlank())
                    continue;
                String[] t = line.trim().split("\\s+"); // address add|del IP/32 dev DEV
                TreeSet<String> addrs = links.get(t[4]);
                if (addrs == null)
                    return fail("Cannot find device \"" + t[4] + "\"");
                String ip = t[2].split("/")[0];
                boolean changed = t[1].equals("add") ? addrs.add(ip) : addrs.remove(ip);
                if (!changed)
                    return fail(
                            t[1].equals("add") ? "RTNETLINK answers: File exists" : "RTNETLINK answers: Cannot assign requested address");
            }
            return ok("");
        }
        if (joined.startsWith("link show ")) {
            return links.containsKey(a.get(2))
                    ? ok("1: " + a.get(2) + ": <BROADCAST,NOARP> mtu 1500\n")
                    : fail("Device \"" + a.get(2) + "\" does not exist.");
        }
        if (joined.startsWith("link add ")) {
            if (links.putIfAbsent(a.get(2), new TreeSet<>()) != null)
                return fail("RTNETLINK answers: File exists");
            return ok("");
        }
        if (joined.startsWith("link del ")) {
            return links.remove(a.get(2)) != null ? ok("") : fail("Cannot find device");
        }
        if (joined.startsWith("-o -4 addr show") || joined.startsWith("-o -6 addr show")) {
            boolean v6 = joined.startsWith("-o -6");
            StringBuilder out = new StringBuilder();
            int i = 1;
            for (Map.Entry<String, TreeSet<String>> link : links.entrySet()) {
                if (a.size() > 5 && !a.get(5).equals(link.getKey()))
                    continue;
                if (a.size() > 5 && !links.containsKey(a.get(5)))
                    return fail("Device does not exist");
                for (String ip : link.getValue()) {
                    if (ip.contains(":") != v6)
                        continue;
                    out.append(i).append(": ").append(link.getKey()).append(v6 ? "    inet6 " : "    inet ").append(ip)
                            .append(v6 ? "/128" : "/32").append(" scope global ")
                            .append(link.getKey()).append("\\       valid_lft forever preferred_lft forever\n");
                }
                i++;
            }
            if (a.size() > 5 && !links.containsKey(a.get(5)))
                return fail("Device \"" + a.get(5) + "\" does not exist.");
            return ok(out.toString());
        }
        return fail("unsupported ip " + joined);
    }

    private static ToolResult ok(String out) {
        return new ToolResult(0, out, "");
    }

    private static ToolResult fail(String err) {
        return new ToolResult(1, "", err);
    }
}
