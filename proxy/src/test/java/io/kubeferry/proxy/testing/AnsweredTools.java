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
