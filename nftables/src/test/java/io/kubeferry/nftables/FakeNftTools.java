package io.kubeferry.nftables;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolNotFoundException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.IpFamily;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link ToolRunner} whose {@code nft} is a {@link FakeNft}: {@code nft -f -} parses and applies what it is fed
 * (a failure exits 1 with nft's kind of message, changing nothing), the listings print what the fake holds, and
 * {@code ip -o -4 addr show} (and {@code -6}) prints the node's addresses of the family. Both families' tables
 * ({@code ip}, {@code ip6}) are answered. Keeps every command it ran.
 */
public final class FakeNftTools implements ToolRunner {

    /** A command naming a family: the words before it, the family, the words after it (table and object). */
    private static final Pattern FAMILY_COMMAND = Pattern
            .compile("((?:-[jt] )?(?:list|delete) (?:chains|sets|maps|table|chain|map)) (ip6?)(?: |$)(.*)");

    private final FakeNft nft;
    private final List<String> addresses;
    private final List<ToolCommand> commands = new ArrayList<>();
    /** When set, the next {@code nft -f -} fails as the kernel would refuse it. */
    private String failNext;

    public FakeNftTools(FakeNft nft, List<String> addresses) {
        this.nft = nft;
        this.addresses = List.copyOf(addresses);
    }

    public List<ToolCommand> commands() {
        return List.copyOf(commands);
    }

    public void failNextTransaction(String message) {
        failNext = message;
    }

    @Override
    public ToolResult run(ToolCommand command) throws ToolException {
        ToolResult result = runAllowingFailure(command);
        if (!result.ok()) {
            throw new ToolException(command.display() + " failed: " + result.stderr().strip(), result);
        }
        return result;
    }

    @Override
    public synchronized ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
        commands.add(command);
        String args = String.join(" ", command.args());
        if (command.tool().equals("ip") && (args.equals("-o -4 addr show") || args.equals("-o -6 addr show"))) {
            IpFamily listed = args.contains("-6") ? IpFamily.IPv6 : IpFamily.IPv4;
            StringBuilder out = new StringBuilder();
            int i = 1;
            for (String cidr : addresses) {
                if (listed.matches(cidr)) {
                    out.append(i).append(": eth0    ").append(listed == IpFamily.IPv6 ? "inet6 " : "inet ").append(cidr)
                            .append(" scope global eth0\\       valid_lft forever preferred_lft forever\n");
                }
                i++;
            }
            return new ToolResult(0, out.toString(), "");
        }
        if (!command.tool().equals("nft")) {
            throw new ToolNotFoundException(command.tool(), command.tool() + ": not a tool of this fake");
        }
        String table = NftablesRenderer.TABLE;
        // Every family's table: the IPv4 and the IPv6 instance share one fake, as they share one kernel.
        Matcher listing = FAMILY_COMMAND.matcher(args);
        String family = listing.matches() ? listing.group(2) : "";
        String what = listing.matches() ? listing.group(1) + " " + listing.group(3) : args;
        try {
            switch (what) {
                case "-f -" -> {
                    if (failNext != null) {
                        String message = failNext;
                        failNext = null;
                        return new ToolResult(1, "", "Error: Could not process rule: " + message + "\n");
                    }
                    nft.apply(NftScript.parse(command.stdinText()));
                    return new ToolResult(0, "", "");
                }
                case "--version" -> {
                    return new ToolResult(0, "nftables v1.0.6 (Lester Gooch #5)\n", "");
                }
                case "--check -f -" -> {
                    // Parsed as nft would; --check changes nothing.
                    NftScript.parse(command.stdinText());
                    return new ToolResult(0, "", "");
                }
                case "list chains " -> {
                    return new ToolResult(0, nft.hasTable(family, table) ? onlyChainHeads(nft.listTable(family, table)) : "", "");
                }
                case "-t list sets ", "-t list maps " -> {
                    return new ToolResult(0, nft.hasTable(family, table) ? nft.listTable(family, table) : "", "");
                }
                case "-j list table kube-proxy" -> {
                    if (!nft.hasTable(family, table)) {
                        return new ToolResult(1, "",
                                "Error: No such file or directory; did you mean table 'kube-proxy' in family " + family + "?\n");
                    }
                    return new ToolResult(0, nft.listJson(family, table), "");
                }
                case "list table kube-proxy" -> {
                    return new ToolResult(0, nft.listTable(family, table), "");
                }
                case "delete table kube-proxy" -> {
                    nft.apply(new NftTransaction(family, table).delete(new NftObject.Table(null)));
                    return new ToolResult(0, "", "");
                }
                default -> {
                    if (what.startsWith("list chain kube-proxy ")) {
                        String chain = what.substring("list chain kube-proxy ".length());
                        if (nft.hasTable(family, table) && nft.chains(family, table).contains(chain)) {
                            return new ToolResult(0, String.join("\n", nft.rules(family, table, chain)), "");
                        }
                        return new ToolResult(1, "", "Error: No such file or directory\n");
                    }
                    if (what.startsWith("list map kube-proxy ")) {
                        String map = what.substring("list map kube-proxy ".length());
                        if (nft.hasTable(family, table) && nft.containers(family, table).contains(map)) {
                            return new ToolResult(0, String.join("\n", nft.elements(family, table, map).keySet()), "");
                        }
                        return new ToolResult(1, "", "Error: No such file or directory\n");
                    }
                    throw new ToolException("nft " + args + ": not understood by this fake", null);
                }
            }
        } catch (FakeNft.Failure e) {
            String errno = e.errno().equals("ENOENT")
                    ? "No such file or directory"
                    : e.errno().equals("EEXIST")
                            ? "File exists"
                            : e.errno().equals("EBUSY") ? "Device or resource busy" : e.getMessage();
            return new ToolResult(1, "", "Error: Could not process rule: " + errno + " (" + e.getMessage() + ")\n");
        }
    }

    /** {@code nft list chains} prints chain heads and base-chain specs, not rules. */
    private static String onlyChainHeads(String listing) {
        StringBuilder out = new StringBuilder();
        for (String line : listing.split("\n")) {
            if (!line.startsWith("\t\t") || line.contains(" hook ")) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }
}
