package io.kubeferry.it;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.testing.FakeNetfilter;
import io.kubeferry.proxy.testing.trace.NetfilterTracer;
import io.kubeferry.proxy.testing.trace.Packet;
import io.kubeferry.proxy.testing.trace.PathEnd;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link SchedulerRealKernelCases} in iptables mode: the packet tracer's HMARK model, on iptables-save output. */
@EnableKubernetesMockClient(crud = true)
class SchedulerRealKernelTest extends SchedulerRealKernelCases {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    static KubernetesClient client;

    SchedulerRealKernelTest() {
        super(BED);
    }

    @Override
    KubernetesClient client() {
        return client;
    }

    @Override
    ProxyConfig config(ProxyConfig base) {
        return base;
    }

    /** What the packet tracer says each address reaches, walking the node's iptables-save output (the kernel's own rule text). */
    @Override
    Map<String, String> predicted(String vip, String service, Map<String, String> podByEndpoint) throws Exception {
        String save = BED.stdout(BED.nodeNs(), "iptables-nft-save");
        FakeNetfilter fake = new FakeNetfilter();
        String restorable = save.lines().filter(l -> !l.startsWith("#")).map(l -> l.replaceAll(" \\[\\d+:\\d+\\]$", " [0:0]"))
                .collect(Collectors.joining("\n", "", "\n"));
        // -m nfacct only counts (it always matches; iptables-save prints its name after two spaces): left out, so the
        // fake needs none of the kernel's counters.
        restorable = restorable.replaceAll(" -m nfacct --nfacct-name +\\S+", "");
        fake.run(ToolCommand.of("iptables-nft-restore").withStdin(restorable));
        NetfilterTracer tracer = new NetfilterTracer("iptables", fake, Set.of(NetnsTestBed.NODE_BRIDGE_IP, NetnsTestBed.NODE_EXTERNAL_IP),
                NetfilterTracer.Ipsets.NONE, NetfilterTracer.VirtualServers.NONE);
        Map<String, String> where = new TreeMap<>();
        for (String address : CLIENTS) {
            var ends = tracer.trace(Packet.tcp(Packet.Origin.OUTSIDE, address, vip, 80)).outcome().ends();
            assertEquals(1, ends.size(), address + ": " + ends);
            PathEnd end = ends.iterator().next();
            where.put(address, podByEndpoint.getOrDefault(end.endpoint(), end.toString()));
        }
        return where;
    }
}
