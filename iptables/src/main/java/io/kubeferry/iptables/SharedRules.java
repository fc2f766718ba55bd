package io.kubeferry.iptables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;

import java.util.List;
import java.util.Set;

/**
 * The netfilter rules iptables and IPVS mode write alike (IPVS mode reuses this module), written here once:
 * KUBE-FORWARD, KUBE-POSTROUTING's masquerade, KUBE-MARK-MASQ and the jumps from built-in chains; and the two
 * things about the node both modes read the same way to write them. Upstream's two proxiers write the same rules,
 * so either mode recognises the other's on a node that switches.
 */
public final class SharedRules {

    public static final String KUBE_SERVICES = "KUBE-SERVICES";
    public static final String KUBE_FORWARD = "KUBE-FORWARD";
    public static final String KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
    public static final String KUBE_POSTROUTING = "KUBE-POSTROUTING";
    public static final String KUBE_MARK_MASQ = "KUBE-MARK-MASQ";

    private SharedRules() {
    }

    /**
     * KUBE-FORWARD: accept what is marked for masquerade and what conntrack knows.
     *
     * @param dropInvalid    first drop conntrack-INVALID packets (see {@link #dropInvalid(ToolRunner)})
     * @param invalidCounter the nfacct counter those drops count into, or "" for none
     */
    public static void forward(RuleWriter filter, String mark, boolean dropInvalid, String invalidCounter) {
        if (dropInvalid) {
            // Out-of-window packets would otherwise be un-NATed and reset connections (upstream k/k#74839).
            List<String> counted = invalidCounter.isEmpty() ? List.of() : List.of("-m", "nfacct", "--nfacct-name", invalidCounter);
            filter.rule("-A", KUBE_FORWARD, "-m", "conntrack", "--ctstate", "INVALID", counted, "-j", "DROP");
        }
        filter.rule("-A", KUBE_FORWARD, RuleWriter.comment("kubernetes forwarding rules"), "-m", "mark", "--mark", mark + "/" + mark,
                "-j", "ACCEPT");
        filter.rule("-A", KUBE_FORWARD, RuleWriter.comment("kubernetes forwarding conntrack rule"), "-m", "conntrack", "--ctstate",
                "RELATED,ESTABLISHED", "-j", "ACCEPT");
    }

    /** KUBE-POSTROUTING masquerades what KUBE-MARK-MASQ marked (after whatever a mode puts ahead of it). */
    public static void masquerade(RuleWriter nat, String mark) {
        nat.rule("-A", KUBE_POSTROUTING, "-m", "mark", "!", "--mark", mark + "/" + mark, "-j", "RETURN");
        // Clear the mark: a packet re-traversing the network stack must not be masqueraded again.
        nat.rule("-A", KUBE_POSTROUTING, "-j", "MARK", "--xor-mark", mark);
        nat.rule("-A", KUBE_POSTROUTING, RuleWriter.comment("kubernetes service traffic requiring SNAT"), "-j", "MASQUERADE",
                "--random-fully");
        nat.rule("-A", KUBE_MARK_MASQ, "-j", "MARK", "--or-mark", mark);
    }

    /** Inserts the jumps of {@code jumps} in {@code table} that the kernel does not have yet ({@code present}). */
    public static void insertJumps(RuleWriter out, String table, List<JumpRule> jumps, Set<JumpRule> present) {
        for (JumpRule jump : jumps) {
            if (jump.table().equals(table) && !present.contains(jump)) {
                out.line("-I", jump.from(), jump.body());
            }
        }
    }

    /** The pod CIDR for local-traffic detection: the first IPv4 {@code clusterCIDR}, "" (detection off) when none. */
    public static String podCIDR(ProxyConfig config) {
        return podCIDR(config, io.kubeferry.proxy.model.IpFamily.IPv4);
    }

    /** {@code family}'s pod CIDR for local-traffic detection (of a dual-stack clusterCIDR pair), "" (detection off) when none. */
    public static String podCIDR(ProxyConfig config, io.kubeferry.proxy.model.IpFamily family) {
        return config.clusterCIDR(family);
    }

    /**
     * Whether KUBE-FORWARD drops conntrack-INVALID packets: unless the kernel is liberal about out-of-window TCP
     * ({@code nf_conntrack_tcp_be_liberal=1}), as upstream decides it. An unreadable sysctl counts as not liberal.
     */
    public static boolean dropInvalid(ToolRunner tools) throws ToolException {
        ToolResult liberal = tools.runAllowingFailure(ToolCommand.of("sysctl", "-n", "net.netfilter.nf_conntrack_tcp_be_liberal"));
        return !(liberal.ok() && liberal.stdout().strip().equals("1"));
    }
}
