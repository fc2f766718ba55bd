package io.kubeferry.proxy.exec;

/**
 * What a tool run produced.
 *
 * @param exitCode the exit status
 * @param stdout   standard output
 * @param stderr   standard error
 */
public record ToolResult(int exitCode, String stdout, String stderr) {

    public boolean ok() {
        return exitCode == 0;
    }
}
