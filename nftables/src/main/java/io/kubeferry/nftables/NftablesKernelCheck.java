package io.kubeferry.nftables;

import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.IpFamily;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Upstream's start-up check for nftables mode (k/k pkg/proxy/nftables/proxier.go): the kernel must be 5.13 or
 * later, standing in for "the host's nft is 1.0.1 or later" (k/k#122743: an older system nft is broken by the
 * rules a newer one writes). {@code KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK} set to anything non-empty
 * skips it, as upstream. Then, always, what knftables.New checks: nft is 1.0.1 or later, and the kernel accepts (in a
 * {@code --check} run, which changes nothing) the table with a comment, the newest feature the table needs, in the
 * instance's family. An IPv6 instance first needs IPv6 in the agent's network namespace, asked through its tools as
 * iptables mode asks: a kernel booted with {@code ipv6.disable=1} (or built without it) has no
 * {@code net.ipv6.conf.all.disable_ipv6}, and a namespace may have it set to 1; either way nft would still take an
 * {@code ip6} table that no packet ever reaches. The kernel release and the environment are given, so tests can fake them.
 */
record NftablesKernelCheck(Callable<String> osRelease, Function<String, String> env) {

    static final String SKIP = "KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK";
    static final int MIN_MAJOR = 5;
    static final int MIN_MINOR = 13;

    private static final Pattern VERSION = Pattern.compile("^(\\d+)\\.(\\d+)");
    private static final Pattern NFT_VERSION = Pattern.compile("v(\\d+)\\.(\\d+)\\.(\\d+)");

    static final String DISABLE_IPV6 = "net.ipv6.conf.all.disable_ipv6";

    /** This machine's: the kernel release is the same in every network namespace, so the agent's own /proc tells. */
    static NftablesKernelCheck system() {
        return new NftablesKernelCheck(() -> Files.readString(Path.of("/proc/sys/kernel/osrelease")), System::getenv);
    }

    /** {@link #check(ToolRunner, NftFamily)} for the IPv4 table. */
    void check(ToolRunner tools) throws DataplaneException {
        check(tools, NftFamily.IPV4);
    }

    /**
     * IPv6 (for an IPv6 instance), the kernel version, then nft and nf_tables through {@code tools} (the agent's, in its
     * network namespace) with the family's table.
     */
    void check(ToolRunner tools, NftFamily family) throws DataplaneException {
        if (family.ipFamily() == IpFamily.IPv6) {
            checkIpv6(tools);
        }
        check();
        try {
            ToolResult version = tools.runAllowingFailure(ToolCommand.of("nft", "--version"));
            Matcher v = NFT_VERSION.matcher(version.stdout());
            if (!version.ok() || !v.find()) {
                throw new DataplaneException("could not tell the nft version: nft --version printed \"" + version.stdout().strip()
                        + "\" " + version.stderr().strip());
            }
            int[] found = {Integer.parseInt(v.group(1)), Integer.parseInt(v.group(2)), Integer.parseInt(v.group(3))};
            if (found[0] < 1 || (found[0] == 1 && found[1] == 0 && found[2] < 1)) {
                throw new DataplaneException("nftables mode requires nft 1.0.1 or later (as kube-proxy's), found " + v.group()
                        + ": older ones parse the whole ruleset and can be broken by other tables");
            }
            String probe = "add table " + family.name() + " " + NftablesRenderer.TABLE
                    + " { comment \"rules for kube-proxy\" ; }\n";
            ToolResult checked = tools.runAllowingFailure(ToolCommand.of("nft", "--check", "-f", "-").withStdin(probe));
            if (!checked.ok()) {
                throw new DataplaneException("the kernel refused a test nftables transaction on table " + family.name() + " "
                        + NftablesRenderer.TABLE + " (nft --check: " + checked.stderr().strip()
                        + "): nftables mode needs nf_tables with table comments (kernel 5.13 or later, module nf_tables)");
            }
        } catch (ToolException e) {
            throw new DataplaneException("could not run nft: " + e.getMessage(), e);
        }
    }

    /** IPv6 present and not disabled, in the namespace {@code tools} runs in (the agent's, or --netns's). */
    private static void checkIpv6(ToolRunner tools) throws DataplaneException {
        ToolResult sysctl;
        try {
            sysctl = tools.runAllowingFailure(ToolCommand.of("sysctl", "-n", DISABLE_IPV6));
        } catch (ToolException e) {
            throw new DataplaneException("nftables mode cannot tell whether IPv6 is on here (sysctl " + DISABLE_IPV6 + "): "
                    + e.getMessage(), e);
        }
        if (!sysctl.ok()) {
            throw new DataplaneException("nftables mode cannot run IPv6 here: the kernel has IPv6 disabled (no /proc/sys/net/ipv6:"
                    + " booted with ipv6.disable=1, or built without IPv6): sysctl exited " + sysctl.exitCode() + ": "
                    + sysctl.stderr().strip());
        }
        if (sysctl.stdout().strip().equals("1")) {
            throw new DataplaneException("nftables mode cannot run IPv6 here: IPv6 is disabled on this node (" + DISABLE_IPV6 + "=1)");
        }
    }

    /** The kernel version alone (upstream's check). */
    void check() throws DataplaneException {
        String skip = env.apply(SKIP);
        if (skip != null && !skip.isEmpty()) {
            return;
        }
        String release;
        try {
            release = osRelease.call().strip();
        } catch (IOException e) {
            throw new DataplaneException("could not check kernel version (/proc/sys/kernel/osrelease): " + e.getMessage()
                    + "; set " + SKIP + "=1 to skip the check", e);
        } catch (Exception e) {
            throw new DataplaneException("could not check kernel version: " + e.getMessage(), e);
        }
        Matcher m = VERSION.matcher(release);
        if (!m.find()) {
            throw new DataplaneException("could not check kernel version: cannot parse \"" + release + "\"; set " + SKIP
                    + "=1 to skip the check");
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        if (major < MIN_MAJOR || (major == MIN_MAJOR && minor < MIN_MINOR)) {
            throw new DataplaneException("nftables mode requires kernel " + MIN_MAJOR + "." + MIN_MINOR + " or later (as kube-proxy's),"
                    + " this node runs " + release + ": use mode iptables, or set " + SKIP + "=1 if this kernel's nft is 1.0.1 or later");
        }
    }
}
