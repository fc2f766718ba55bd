package io.kubeferry.it;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubeferry.proxy.config.ProxyConfig;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real-kernel cases ({@link RealKernelAgentCases}) in iptables mode, the default. */
@EnableKubernetesMockClient(crud = true)
class AgentRealKernelTest extends RealKernelAgentCases {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    static KubernetesClient mockClient;

    @Override
    KubernetesClient kubernetes() {
        return mockClient;
    }

    @Override
    NetnsTestBed bed() {
        return BED;
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
