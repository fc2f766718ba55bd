package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;

/** A tool runner whose {@code runAllowingFailure} (all the conntrack hooks use) the test answers; {@code run} goes to the fake. */
final class AnsweredTools {

    /** What the hook runs through runAllowingFailure, answered by the test. */
    interface Answer {

        ToolResult of(ToolCommand command) throws ToolException;
    }

    private AnsweredTools() {
    }

    static ToolRunner of(ToolRunner fake, Answer answer) {
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
