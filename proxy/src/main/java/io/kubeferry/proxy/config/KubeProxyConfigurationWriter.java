package io.kubeferry.proxy.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.util.List;
import java.util.Map;

/**
 * Writes an effective configuration as a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) with every
 * field upstream has, as {@code --write-config-to} (YAML) and {@code /configz} (JSON) show it. The tree is built
 * with Jackson so any string is quoted and escaped correctly. Fields kube-ferry accepts but does not act on
 * appear with upstream's default unless the input set them. kube-ferry's own settings (netns, master,
 * serviceProxyName) are not KubeProxyConfiguration fields and are not written. The layout is upstream's
 * (keys sorted, empty lists as null, empty optional fields left out), so the two outputs can be diffed.
 */
public final class KubeProxyConfigurationWriter {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private KubeProxyConfigurationWriter() {
    }

    /** The configuration as a KubeProxyConfiguration YAML document. */
    public static String yaml(ProxyConfig config) {
        try {
            return YAML.writeValueAsString(tree(config));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the configuration", e);
        }
    }

    /** The configuration as upstream's /configz serves it: {@code {"kubeproxy.config.k8s.io": {...}}}. */
    public static String json(ProxyConfig config) {
        ObjectNode root = NODES.objectNode();
        root.set("kubeproxy.config.k8s.io", tree(config));
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the configuration", e);
        }
    }

    /** Every field a KubeProxyConfiguration may hold (the loader refuses others): the defaults plus the optional ones. */
    static ObjectNode schema() {
        ObjectNode root = tree(ProxyConfig.defaults());
        root.putObject("featureGates");
        root.put("windowsRunAsService", false);
        ObjectNode logging = (ObjectNode) root.get("logging");
        logging.putArray("vmodule");
        for (String format : List.of("json", "text")) {
            ((ObjectNode) logging.get("options").get(format)).put("splitStream", false);
        }
        return root;
    }

    /** The document as a tree, keys sorted as upstream writes them. */
    static ObjectNode tree(ProxyConfig c) {
        return sorted(unsorted(c));
    }

    private static ObjectNode sorted(ObjectNode node) {
        ObjectNode out = NODES.objectNode();
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        java.util.Collections.sort(names);
        for (String name : names) {
            JsonNode child = node.get(name);
            out.set(name, child instanceof ObjectNode object ? sorted(object) : child);
        }
        return out;
    }

    private static ObjectNode unsorted(ProxyConfig c) {
        ObjectNode root = NODES.objectNode();
        root.put("apiVersion", KubeProxyConfigurationLoader.API_VERSION);
        root.put("kind", "KubeProxyConfiguration");
        root.put("bindAddress", "0.0.0.0");
        root.put("bindAddressHardFail", false);
        ObjectNode client = root.putObject("clientConnection");
        client.put("acceptContentTypes", "");
        client.put("burst", c.clientConnection().burst());
        client.put("contentType", c.clientConnection().contentType());
        client.put("kubeconfig", c.kubeconfig());
        float qps = c.clientConnection().qps();
        if (qps == Math.rint(qps)) {
            client.put("qps", (long) qps);
        } else {
            client.put("qps", qps);
        }
        root.put("clusterCIDR", String.join(",", c.clusterCIDRs()));
        root.put("configSyncPeriod", GoDuration.format(c.configSyncPeriod()));
        ObjectNode conntrack = root.putObject("conntrack");
        ProxyConfig.Conntrack ct = c.conntrack();
        conntrack.put("maxPerCore", ct.maxPerCore());
        conntrack.put("min", ct.min());
        conntrack.put("tcpBeLiberal", ct.tcpBeLiberal());
        conntrack.put("tcpCloseWaitTimeout", GoDuration.format(ct.tcpCloseWaitTimeout()));
        conntrack.put("tcpEstablishedTimeout", GoDuration.format(ct.tcpEstablishedTimeout()));
        conntrack.put("udpStreamTimeout", GoDuration.format(ct.udpStreamTimeout()));
        conntrack.put("udpTimeout", GoDuration.format(ct.udpTimeout()));
        ObjectNode detectLocal = root.putObject("detectLocal");
        detectLocal.put("bridgeInterface", "");
        detectLocal.put("interfaceNamePrefix", "");
        root.put("detectLocalMode", c.detectLocalMode());
        root.put("enableProfiling", false);
        if (!c.featureGates().isEmpty()) {
            ObjectNode gates = root.putObject("featureGates");
            c.featureGates().forEach(gates::put);
        }
        root.put("healthzBindAddress", c.healthzBindAddress());
        root.put("hostnameOverride", c.hostnameOverride());
        ObjectNode iptables = root.putObject("iptables");
        iptables.put("localhostNodePorts", c.iptables().localhostNodePorts());
        iptables.put("masqueradeAll", c.iptables().masqueradeAll());
        iptables.put("masqueradeBit", c.iptables().masqueradeBit());
        iptables.put("minSyncPeriod", GoDuration.format(c.iptables().minSyncPeriod()));
        iptables.put("syncPeriod", GoDuration.format(c.iptables().syncPeriod()));
        ObjectNode ipvs = root.putObject("ipvs");
        ipvs.set("excludeCIDRs", strings(c.ipvs().excludeCIDRs()));
        ipvs.put("minSyncPeriod", GoDuration.format(c.ipvs().minSyncPeriod()));
        ipvs.put("scheduler", c.ipvs().scheduler());
        ipvs.put("strictARP", c.ipvs().strictARP());
        ipvs.put("syncPeriod", GoDuration.format(c.ipvs().syncPeriod()));
        ipvs.put("tcpFinTimeout", GoDuration.format(c.ipvs().tcpFinTimeout()));
        ipvs.put("tcpTimeout", GoDuration.format(c.ipvs().tcpTimeout()));
        ipvs.put("udpTimeout", GoDuration.format(c.ipvs().udpTimeout()));
        ObjectNode logging = root.putObject("logging");
        logging.put("flushFrequency", "5s");
        logging.put("format", c.logging().format());
        ObjectNode options = logging.putObject("options");
        for (String format : List.of("json", "text")) {
            options.putObject(format).put("infoBufferSize", "0");
        }
        logging.put("verbosity", c.logging().verbosity());
        root.put("metricsBindAddress", c.metricsBindAddress());
        root.put("mode", c.mode());
        ObjectNode nftables = root.putObject("nftables");
        nftables.put("masqueradeAll", false);
        nftables.put("masqueradeBit", 14);
        nftables.put("minSyncPeriod", "0s");
        nftables.put("syncPeriod", "0s");
        root.set("nodePortAddresses", strings(c.nodePortAddresses()));
        root.put("oomScoreAdj", c.oomScoreAdj());
        root.put("portRange", "");
        root.put("showHiddenMetricsForVersion", "");
        ObjectNode winkernel = root.putObject("winkernel");
        winkernel.put("enableDSR", false);
        winkernel.put("forwardHealthCheckVip", false);
        winkernel.put("networkName", "");
        winkernel.put("rootHnsEndpointName", "");
        winkernel.put("sourceVip", "");
        for (Map.Entry<String, String> e : c.unused().entrySet()) {
            setLeaf(root, e.getKey(), e.getValue());
        }
        return root;
    }

    /** Upstream writes an empty list as null. */
    private static JsonNode strings(List<String> values) {
        if (values.isEmpty()) {
            return NODES.nullNode();
        }
        ArrayNode array = NODES.arrayNode();
        values.forEach(array::add);
        return array;
    }

    /** Puts an accepted-but-unused value back at its path, typed as the default it replaces. */
    private static void setLeaf(ObjectNode root, String path, String text) {
        String[] parts = path.split("\\.");
        ObjectNode parent = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = parent.get(parts[i]);
            if (!(child instanceof ObjectNode object)) {
                return; // not a field of the document (the loader never records such a path)
            }
            parent = object;
        }
        String name = parts[parts.length - 1];
        JsonNode current = parent.get(name);
        boolean bool = text.equals("true") || text.equals("false");
        if ((current == null || current.isBoolean()) && bool) {
            parent.put(name, Boolean.parseBoolean(text));
        } else if (current != null && current.isIntegralNumber() && text.matches("-?\\d{1,9}")) {
            parent.put(name, Integer.parseInt(text));
        } else {
            parent.put(name, text);
        }
    }
}
