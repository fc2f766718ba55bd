package io.kubeferry.proxy.exec;

/**
 * The one way kube-ferry runs netfilter tools (iptables-restore, ipset, ipvsadm, ip, conntrack, sysctl).
 * Implementations run blocking: never call them on the Vert.x event loop.
 */
public interface ToolRunner {

    /**
     * Runs the command and returns its result when it exits 0.
     *
     * @throws ToolException when the tool is missing, times out, or exits non-zero (stderr in the message)
     */
    ToolResult run(ToolCommand command) throws ToolException;

    /** Runs the command and returns its result whatever the exit status; throws only when it could not run. */
    ToolResult runAllowingFailure(ToolCommand command) throws ToolException;
}
