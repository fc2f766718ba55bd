package io.kubeferry.proxy.exec;

/** A tool could not be run, timed out, or exited non-zero; the message carries its stderr. */
public class ToolException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient ToolResult result;

    public ToolException(String message, ToolResult result, Throwable cause) {
        super(message, cause);
        this.result = result;
    }

    public ToolException(String message, ToolResult result) {
        this(message, result, null);
    }

    /** The tool's result when it ran to an exit, else null. */
    public ToolResult result() {
        return result;
    }
}
