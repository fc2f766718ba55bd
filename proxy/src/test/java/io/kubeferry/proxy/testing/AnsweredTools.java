package io.kubeferry.proxy.testing;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;

/** A tool runner whose {@code runAllowingFailure} the test answers; {@code run} goes to the fake. */
public final class AnsweredTools {

    /** What the hook runs through runAllowingFailure, answered by the test. */
    public interface Answer {

        ToolResult of(ToolCommand command) throws ToolException;
    }

    private AnsweredTools() {
    }

    /**
     * {@code fake}, on a node where {@code tools} are not installed: {@link ToolRunner#missingTools} names those of
     * them a mode asks for (every command still goes to the fake).
     */
    public static ToolRunner without(ToolRunner fake, String... tools) {
        java.util.Set<String> absent = java.util.Set.of(tools);
        return new ToolRunner() {

            @Override
            public ToolResult run(ToolCommand command) throws ToolException {
                return fake.run(command);
            }

            @Override
            public ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
                return fake.runAllowingFailure(command);
            }

            @Override
            public java.util.Optional<String> missingTools(String mode, java.util.Collection<String> needed) {
                java.util.List<String> missing = needed.stream().filter(absent::contains).toList();
                return missing.isEmpty()
                        ? java.util.Optional.empty()
                        : java.util.Optional.of("proxy mode " + mode + " needs " + String.join(", ", missing) + ", not found");
            }
        };
    }

    public static ToolRunner of(ToolRunner fake, Answer answer) {
        return new ToolRunner() {

            @Override
            public ToolResult run(ToolCommand command) throws ToolException {
                return fake.run(command);
            }

            @Override
            public ToolResult runAllowingFailure(ToolCommand command) throws ToolException {
                return answer.of(command);
            }
        };
    }
}
