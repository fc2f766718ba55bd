package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.scheduler.SchedulerCatalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * What IPVS mode needs of the kernel before it programs anything, in the namespace the agent programs: IPVS
 * itself and the configured scheduler (checked once at start, so a missing one fails start-up instead of every
 * sync), the schedulers a Service may ask for (probed once: modules do not come and go), and on every full sync
 * the modules, sysctls and kube-ipvs0. The lists and checks that need no tool are static.
 */
final class IpvsKernelPreparation {

    private static final Logger LOG = LoggerFactory.getLogger(IpvsKernelPreparation.class);

    /**
     * Where the scheduler probe's virtual server goes: in the benchmarking range (RFC 2544), which no real
     * Service uses, on a port of its own; it exists for two ipvsadm calls.
     */
    static final String SCHEDULER_PROBE = "198.18.255.254:20000";

    /** IPv6's probe: in IPv6's benchmarking range (RFC 5180, 2001:2::/48), so it also proves IPVS has IPv6. */
    static final String SCHEDULER_PROBE_IPV6 = "[2001:2::fffe]:20000";

    private final ProxyConfig.Ipvs ipvs;
    private final IpFamily family;
    private final String scheduler;
    private final ToolRunner tools;
    /** The schedulers this kernel has; null until the first full sync probed them. */
    private SchedulerCatalog catalog;

    /** The node's default for Services without an annotation (--scheduler; "" = {@link #scheduler}). */
    private final String nodeDefault;

    /**
     * @param scheduler   the global scheduler, resolved ("rr" when none is configured)
     * @param nodeDefault kube-ferry's --scheduler: used instead of {@code scheduler} when this kernel has it
     */
    IpvsKernelPreparation(ProxyConfig.Ipvs ipvs, String scheduler, String nodeDefault, ToolRunner tools) {
        this(ipvs, scheduler, nodeDefault, tools, IpFamily.IPv4);
    }

    /** @param family the family the instance programs: its probe address, its sysctls, and (IPv6) whether it is enabled */
    IpvsKernelPreparation(ProxyConfig.Ipvs ipvs, String scheduler, String nodeDefault, ToolRunner tools, IpFamily family) {
        this.family = family;
        this.nodeDefault = nodeDefault;
        this.ipvs = ipvs;
        this.scheduler = scheduler;
        this.tools = tools;
    }

    /** The modules upstream loads for IPVS mode, plus the configured scheduler's. */
    static List<String> modules(String scheduler) {
        List<String> modules = new ArrayList<>(List.of("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"));
        String module = "ip_vs_" + scheduler;
        if (!modules.contains(module)) {
            modules.add(module);
        }
        return modules;
    }

    /**
     * The sysctls a full sync writes ({@code name=value}).
     *
     * @param strictARP       ipvs.strictARP
     * @param connReuseFixed  the kernel is 5.9 or newer, where conn_reuse_mode=1 no longer drops SYNs
     */
    static List<String> sysctls(boolean strictARP, boolean connReuseFixed) {
        return sysctls(strictARP, connReuseFixed, IpFamily.IPv4);
    }

    /**
     * The sysctls {@code family}'s instance writes. The net.ipv4.vs ones are IPVS's, for both families (the kernel
     * keeps them under ipv4 whatever the family), so both instances write them, as upstream's two proxiers do.
     * ip_forward and the ARP ones are IPv4's: the IPv6 instance leaves them to the IPv4 one, and it does not turn on
     * net.ipv6.conf.all.forwarding either (neither does upstream: on a host that takes router advertisements
     * that would drop its SLAAC default route); the node's IPv6 forwarding is the CNI's or the operator's.
     */
    static List<String> sysctls(boolean strictARP, boolean connReuseFixed, IpFamily family) {
        if (family == IpFamily.IPv6) {
            return sysctls(false, connReuseFixed).stream().filter(s -> s.startsWith("net.ipv4.vs.")).toList();
        }
        List<String> sysctls = new ArrayList<>(List.of(
                // Lets netfilter see IPVS connections, so KUBE-POSTROUTING can masquerade them.
                "net.ipv4.vs.conntrack=1",
                // Packets of a connection whose real server was deleted are dropped at once, not black-holed.
                "net.ipv4.vs.expire_nodest_conn=1",
                "net.ipv4.vs.expire_quiescent_template=1",
                "net.ipv4.ip_forward=1"));
        if (!connReuseFixed) {
            // Before 5.9, conn_reuse_mode=1 drops SYNs for a second under port reuse (k/k#70747).
            sysctls.add("net.ipv4.vs.conn_reuse_mode=0");
        }
        if (strictARP) {
            // kube-ipvs0 holds every Service IP: without these the node answers ARP for all of them (k/k#59976).
            sysctls.add("net.ipv4.conf.all.arp_ignore=1");
            sysctls.add("net.ipv4.conf.all.arp_announce=2");
        }
        return sysctls;
    }

    /** Whether the running kernel (os.version) is at least {@code major.minor}. */
    static boolean kernelAtLeast(int major, int minor) {
        return versionAtLeast(System.getProperty("os.version", "0.0"), major, minor);
    }

    /** Whether a kernel release such as {@code 6.1.0-57-amd64} is at least {@code major.minor}; unreadable is not. */
    static boolean versionAtLeast(String release, int major, int minor) {
        String[] v = release.split("[.-]");
        try {
            int ma = Integer.parseInt(v[0]);
            int mi = v.length > 1 ? Integer.parseInt(v[1]) : 0;
            return ma > major || (ma == major && mi >= minor);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * True for ipvsadm's complaint on a kernel without IPVS ("Can't initialize ipvs: Protocol not available"); as
     * non-root it says "Permission denied" instead, which is a real failure.
     */
    static boolean noIpvsInKernel(String stderr) {
        return stderr.contains("Protocol not available");
    }

    /**
     * IPVS must be in the kernel: without it every sync would fail. Tries to load the modules (modprobe may be
     * absent from an image whose host loads them), then asks ipvsadm, then makes sure the configured scheduler works.
     */
    void check() throws DataplaneException {
        if (family == IpFamily.IPv6) {
            checkIPv6Enabled();
        }
        List<String> modprobe = new ArrayList<>(List.of("-a", "-q"));
        modprobe.addAll(modules(scheduler));
        try {
            tools.runAllowingFailure(new ToolCommand("modprobe", modprobe, null, null));
        } catch (ToolException e) {
            LOG.debug("modprobe: {}", e.getMessage());
        }
        ToolResult listed;
        try {
            listed = tools.runAllowingFailure(ToolCommand.of("ipvsadm", "-Ln"));
        } catch (ToolException e) {
            throw new DataplaneException("cannot check for IPVS in the kernel: " + e.getMessage(), e);
        }
        if (listed.ok()) {
            checkScheduler();
            return;
        }
        String why = listed.stderr().lines().filter(l -> l.contains("Can't initialize ipvs")).findFirst().orElse(listed.stderr().strip());
        if (noIpvsInKernel(listed.stderr())) {
            throw new DataplaneException("IPVS is not available in this kernel (ipvsadm: " + why + "): load its modules with `modprobe -a "
                    + String.join(" ", modules(scheduler))
                    + "` (a kernel built without CONFIG_IP_VS cannot run IPVS mode), or use --proxy-mode iptables");
        }
        throw new DataplaneException("cannot use IPVS: ipvsadm -Ln exited " + listed.exitCode() + ": " + why);
    }

    /**
     * IPv6 must be on in the namespace the instance programs: a kernel booted with ipv6.disable=1 has no
     * /proc/sys/net/ipv6 at all, and disable_ipv6=1 leaves the addresses off every interface.
     */
    private void checkIPv6Enabled() throws DataplaneException {
        ToolResult disabled;
        try {
            disabled = tools.runAllowingFailure(ToolCommand.of("sysctl", "-n", "net.ipv6.conf.all.disable_ipv6"));
        } catch (ToolException e) {
            throw new DataplaneException("cannot check whether IPv6 is enabled: " + e.getMessage(), e);
        }
        if (!disabled.ok()) {
            throw new DataplaneException("IPv6 is disabled in this kernel (no net.ipv6.conf.all.disable_ipv6: "
                    + disabled.stderr().strip() + "; booted with ipv6.disable=1?): IPVS mode cannot program IPv6");
        }
        if (disabled.stdout().strip().equals("1")) {
            throw new DataplaneException(
                    "IPv6 is disabled in this namespace (net.ipv6.conf.all.disable_ipv6=1): IPVS mode cannot program IPv6");
        }
    }

    /** The address:port of the scheduler probe's virtual server, in the instance's family. */
    String probe() {
        return family == IpFamily.IPv6 ? SCHEDULER_PROBE_IPV6 : SCHEDULER_PROBE;
    }

    /**
     * The configured scheduler is there only if the kernel makes a virtual server with it (upstream's
     * CanUseIPVSProxier does the same): otherwise every Service's virtual server would fail at every sync.
     */
    private void checkScheduler() throws DataplaneException {
        try {
            ToolResult added = tools.runAllowingFailure(ToolCommand.of("ipvsadm", "-R")
                    .withStdin("-A -t " + probe() + " -s " + scheduler + "\n"));
            if (!added.ok()) {
                if (added.stderr().contains("already exists")) {
                    // Someone else's virtual server: leave it, and let the first sync tell.
                    LOG.warn("cannot probe the IPVS scheduler {}: a virtual server {} already exists", scheduler, probe());
                    return;
                }
                if (family == IpFamily.IPv6 && added.stderr().contains("not supported")) {
                    throw new DataplaneException("this kernel's IPVS has no IPv6 (ipvsadm: " + added.stderr().strip()
                            + "; a kernel built without CONFIG_IP_VS_IPV6): IPVS mode cannot program IPv6");
                }
                throw new DataplaneException(
                        "ipvs.scheduler: the IPVS scheduler \"" + scheduler + "\" is not available in this kernel (ipvsadm: "
                                + added.stderr().strip() + "): load it with `modprobe ip_vs_" + scheduler + "` or choose another");
            }
            tools.run(ToolCommand.of("ipvsadm", "-R").withStdin("-D -t " + probe() + "\n"));
        } catch (ToolException e) {
            throw new DataplaneException("cannot probe the IPVS scheduler " + scheduler + ": " + e.getMessage(), e);
        }
    }

    /**
     * What a full sync makes sure of first: ip_vs loaded, the scheduler list (probed on the first call only),
     * the sysctls and kube-ipvs0. Returns the schedulers Services may choose from.
     */
    SchedulerCatalog prepare() throws ToolException {
        tools.runAllowingFailure(ToolCommand.of("modprobe", "-q", "ip_vs"));
        if (catalog == null) {
            IpvsSchedulers schedulers = new IpvsSchedulers(this::kernelHasScheduler);
            if (!schedulers.available().contains(scheduler)) {
                LOG.error("the configured IPVS scheduler \"{}\" is not available in this kernel (available: {})", scheduler,
                        new TreeSet<>(schedulers.available()));
            }
            LOG.info("IPVS schedulers available on this node: {}", schedulers.available());
            catalog = SchedulerCatalog.forNode("ipvs", schedulers, nodeDefault, scheduler);
        }
        List<String> args = new ArrayList<>(List.of("-q", "-w"));
        args.addAll(sysctls(ipvs.strictARP(), kernelAtLeast(5, 9), family));
        tools.run(new ToolCommand("sysctl", args, null, null));
        // Bridged pod traffic must meet this family's netfilter rules (the replies' un-NAT included).
        String bridgeCall = family == IpFamily.IPv6 ? "net.bridge.bridge-nf-call-ip6tables" : "net.bridge.bridge-nf-call-iptables";
        ToolResult bridge = tools.runAllowingFailure(ToolCommand.of("sysctl", "-n", bridgeCall));
        if (bridge.ok() && !bridge.stdout().strip().equals("1")) {
            tools.run(ToolCommand.of("sysctl", "-q", "-w", bridgeCall + "=1"));
        }
        // The ipvs timeouts are not set here: the agent sets them once at start (cli IpvsTimeouts), as upstream's proxier.
        if (!IpvsAddresses.deviceExists(tools)) {
            // Left down like upstream's: its addresses are local either way, and a down link never answers ARP.
            tools.run(ToolCommand.of("ip", "link", "add", IpvsAddresses.DEVICE, "type", "dummy"));
            LOG.info("created {}", IpvsAddresses.DEVICE);
        }
        return catalog;
    }

    private boolean kernelHasScheduler(String name) {
        try {
            if (tools.runAllowingFailure(ToolCommand.of("modprobe", "-q", "ip_vs_" + name)).ok()) {
                return true;
            }
        } catch (ToolException e) {
            LOG.debug("modprobe ip_vs_{}: {}", name, e.getMessage());
        }
        // Built into the kernel, or loaded by the host when modprobe is not in the image.
        return Files.isDirectory(Path.of("/sys/module/ip_vs_" + name));
    }
}
