package io.kubeferry.nftables;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolNotFoundException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link ToolRunner} whose {@code nft} is a {@link FakeNft}: {@code nft -f -} parses and applies what it is fed
 * (a failure exits 1 with nft's kind of message, changing nothing), the listings print what the fake holds, and
 * {@code ip -o -4 addr show} prints the node's addresses. Keeps every command it ran.
 */
public final class FakeNftTools implements ToolRunner {

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
        if (command.tool().equals("ip") && args.equals("-o -4 addr show")) {
            StringBuilder out = new StringBuilder();
            int i = 1;
            for (String cidr : addresses) {
                out.append(i).append(": eth0    inet ").append(cidr)
                        .append(" scope global eth0\\       valid_lft forever preferred_lft forever\n");
                i++;
            }
            return new ToolResult(0, out.toString(), "");
        }
        if (!command.tool().equals("nft")) {
            throw new ToolNotFoundException(command.tool(), command.tool() + ": not a tool of this fake");
        }
        String family = NftablesRenderer.FAMILY;
        String table = NftablesRenderer.TABLE;
        try {
            switch (args) {
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
                case "list chains ip" -> {
                    return new ToolResult(0, nft.hasTable(family, table) ? onlyChainHeads(nft.listTable(family, table)) : "", "");
                }
                case "-t list sets ip", "-t list maps ip" -> {
                    return new ToolResult(0, nft.hasTable(family, table) ? nft.listTable(family, table) : "", "");
                }
                case "-j list table ip kube-proxy" -> {
                    if (!nft.hasTable(family, table)) {
                        return new ToolResult(1, "", "Error: No such file or directory; did you mean table 'kube-proxy' in family ip?\n");
                    }
                    return new ToolResult(0, nft.listJson(family, table), "");
                }
                case "list table ip kube-proxy" -> {
                    return new ToolResult(0, nft.listTable(family, table), "");
                }
                case "delete table ip kube-proxy" -> {
                    nft.apply(new NftTransaction(family, table).delete(new NftObject.Table(null)));
                    return new ToolResult(0, "", "");
                }
                default -> {
                    if (args.startsWith("list chain ip kube-proxy ")) {
                        String chain = args.substring("list chain ip kube-proxy ".length());
                        if (nft.hasTable(family, table) && nft.chains(family, table).contains(chain)) {
                            return new ToolResult(0, String.join("\n", nft.rules(family, table, chain)), "");
                        }
                        return new ToolResult(1, "", "Error: No such file or directory\n");
                    }
                    if (args.startsWith("list map ip kube-proxy ")) {
                        String map = args.substring("list map ip kube-proxy ".length());
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
