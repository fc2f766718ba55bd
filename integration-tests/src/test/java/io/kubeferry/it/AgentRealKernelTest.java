package io.kubeferry.it;

import io.kubeferry.proxy.config.ProxyConfig;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real-kernel cases ({@link RealKernelAgentCases}) in iptables mode, the default. */
class AgentRealKernelTest extends RealKernelAgentCases {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    AgentRealKernelTest() {
        super(BED);
    }

    @Override
    ProxyConfig config() {
        return BedAgent.quick(BED);
    }

    @Override
    void assertProgrammed() throws Exception {
        assertTrue(BED.exec(BED.nodeNs(), "iptables-nft-save").contains("KUBE-SVC-"), "rules present before cleanup");
    }
}
