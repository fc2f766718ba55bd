package io.kubeferry.it;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.testing.trace.Jhash;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link SchedulerRealKernelCases} in nftables mode: rr's numgen inc cascade, and source-hash's and maglev's jhash
 * into the shared slot map. The hash model (nft_jhash: jhash of the address bytes, reciprocal_scale, the offset) is
 * checked against the kernel: from the Service chain's rule and the map's elements as the kernel lists them, it must
 * predict the pod of every real connection.
 */
@EnableKubernetesMockClient(crud = true)
class NftablesSchedulerRealKernelTest extends SchedulerRealKernelCases {

    @RegisterExtension
    static final NetnsTestBed BED = new NetnsTestBed();

    static KubernetesClient client;

    /** The dispatch rule ServiceDispatch writes, as nft lists it. */
    private static final Pattern RULE = Pattern.compile(
            "numgen random mod 1 offset (\\d+) \\. jhash ip saddr mod (\\d+) seed (0x[0-9a-f]+) offset (\\d+) vmap @scheduler-slots");

    private static final Pattern ELEMENT = Pattern.compile("(\\d+) \\. (\\d+) : goto \"?([^\",\\s}]+)");

    NftablesSchedulerRealKernelTest() {
        super(BED);
    }

    @Override
    KubernetesClient client() {
        return client;
    }

    @Override
    ProxyConfig config(ProxyConfig base) throws Exception {
        assumeTrue(NetnsTestBed.run(List.of("nft", "--version")).exit() == 0,
                "nftables mode needs the nft command (dev/setup.sh installs it)");
        return base.withMode("nftables");
    }

    @Override
    Map<String, String> predicted(String vip, String service, Map<String, String> podByEndpoint) throws Exception {
        // The Service chain of default/<service>/tcp/ and its one jhash rule.
        String table = BED.stdout(BED.nodeNs(), "nft", "list", "table", "ip", "kube-proxy");
        Matcher rule = null;
        String chain = null;
        for (String line : table.lines().toList()) {
            String l = line.strip();
            if (l.startsWith("chain ")) {
                chain = l.substring(6, l.length() - 2).replace("\"", "");
            } else if (chain != null && chain.startsWith("service-") && chain.contains("/" + service + "/tcp/")) {
                Matcher m = RULE.matcher(l);
                if (m.find()) {
                    rule = m;
                }
            }
        }
        assertNotNull(rule, "no jhash dispatch for " + service + " in:\n" + table);
        long id = Long.parseLong(rule.group(1));
        int mod = Integer.parseInt(rule.group(2));
        int seed = (int) (long) Long.decode(rule.group(3));
        long base = Long.parseLong(rule.group(4));
        // The slot map's elements as nft lists them, "id . slot : goto endpoint-...__ip/port".
        String map = BED.stdout(BED.nodeNs(), "nft", "list", "map", "ip", "kube-proxy", "scheduler-slots");
        Map<String, String> slots = new HashMap<>();
        Matcher e = ELEMENT.matcher(map);
        while (e.find()) {
            String target = e.group(3);
            slots.put(e.group(1) + " . " + e.group(2), target.substring(target.lastIndexOf("__") + 2).replace('/', ':'));
        }
        Map<String, String> where = new TreeMap<>();
        for (String address : CLIENTS) {
            String endpoint = slots.get(id + " . " + (Jhash.nftJhash(address, seed, mod) + base));
            where.put(address, podByEndpoint.getOrDefault(endpoint, "no slot element for " + address + " (" + endpoint + ")"));
        }
        return where;
    }
}
