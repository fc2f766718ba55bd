package io.kubeferry.proxy.exec;

/** The tool is not installed (not on the lookup's search path): it never ran, so it changed nothing. */
public final class ToolNotFoundException extends ToolException {

    private static final long serialVersionUID = 1L;

    private final String tool;

    public ToolNotFoundException(String tool, String message) {
        super(message, null);
        this.tool = tool;
    }

    public String tool() {
        return tool;
    }
}
