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

    /**
     * Why {@code mode} cannot run {@code tools} here: a message naming the ones this runner cannot find and where
     * it looked, or empty when every one is installed. A runner that answers commands itself (a test's fake) has
     * them all; one that runs processes asks the {@link RequiredTools} lookup it runs them by.
     */
    default java.util.Optional<String> missingTools(String mode, java.util.Collection<String> tools) {
        return java.util.Optional.empty();
    }
}
