package io.kubeferry.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kubeferry.proxy.model.Cidr;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) into a {@link ProxyConfig}. Strict:
 * an unknown field or a bad value stops start-up with the field's path, because a typo silently ignored
 * in a node agent means a cluster that routes differently from what its operator believes.
 */
public final class KubeProxyConfigurationLoader {

    static final String API_VERSION = "kubeproxy.config.k8s.io/v1alpha1";

    /**
     * Upstream fields (or whole sections) kube-ferry accepts but does not act on. A value other than the
     * default is kept in {@link ProxyConfig#unused()} so the caller can warn once and the writer shows it.
     */
    private static final Set<String> UNUSED = Set.of("bindAddress", "bindAddressHardFail", "enableProfiling",
            "showHiddenMetricsForVersion", "portRange", "winkernel", "nftables", "windowsRunAsService", "detectLocal",
            "clientConnection.acceptContentTypes", "logging.flushFrequency", "logging.options", "logging.vmodule");

    /** Fields whose value is a map or list: their contents are not fields of the schema. */
    private static final Set<String> OPAQUE = Set.of("featureGates", "nodePortAddresses", "ipvs.excludeCIDRs", "logging.vmodule");

    private KubeProxyConfigurationLoader() {
    }

    public static ProxyConfig load(Path file) throws ConfigException {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
    }

    public static ProxyConfig parse(String yaml) throws ConfigException {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (IOException e) {
            throw new ConfigException("config is not valid YAML: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException("config must be a KubeProxyConfiguration object");
        }
        String apiVersion = root.path("apiVersion").asText("");
        String kind = root.path("kind").asText("");
        if (!kind.equals("KubeProxyConfiguration")) {
            throw new ConfigException("kind: expected KubeProxyConfiguration, got \"" + kind + "\"");
        }
        if (!apiVersion.equals(API_VERSION)) {
            throw new ConfigException("apiVersion: expected " + API_VERSION + ", got \"" + apiVersion + "\"");
        }
        Map<String, String> unused = new TreeMap<>();
        checkFields((ObjectNode) root, KubeProxyConfigurationWriter.schema(), "", unused);
        Reader r = new Reader(root);
        ProxyConfig d = ProxyConfig.defaults();
        ProxyConfig.Iptables di = d.iptables();
        ProxyConfig.Ipvs dv = d.ipvs();
        ProxyConfig.Conntrack dc = d.conntrack();
        ProxyConfig.ClientConnection dcc = d.clientConnection();
        String mode = r.text("mode", d.mode()).isEmpty() ? d.mode() : r.text("mode", d.mode());
        String detect = r.text("detectLocalMode", d.detectLocalMode());
        // Upstream reads only the active mode's periods; its --write-config-to leaves the others at 0s.
        Duration iptablesSync = r.duration("iptables.syncPeriod", di.syncPeriod());
        Duration ipvsSync = r.duration("ipvs.syncPeriod", dv.syncPeriod());
        iptablesSync = iptablesSync.isZero() && !mode.equals("iptables") ? di.syncPeriod() : iptablesSync;
        ipvsSync = ipvsSync.isZero() && !mode.equals("ipvs") ? dv.syncPeriod() : ipvsSync;
        ProxyConfig config = new ProxyConfig(
                mode,
                r.text("hostnameOverride", d.hostnameOverride()),
                r.text("clientConnection.kubeconfig", d.kubeconfig()),
                r.text("healthzBindAddress", d.healthzBindAddress()),
                r.text("metricsBindAddress", d.metricsBindAddress()),
                splitCIDRs(r.text("clusterCIDR", "")),
                r.list("nodePortAddresses"),
                d.serviceProxyName(), d.netns(),
                r.duration("configSyncPeriod", d.configSyncPeriod()),
                new ProxyConfig.Iptables(r.bool("iptables.masqueradeAll", di.masqueradeAll()),
                        r.integer("iptables.masqueradeBit", di.masqueradeBit()),
                        r.bool("iptables.localhostNodePorts", di.localhostNodePorts()),
                        iptablesSync,
                        r.duration("iptables.minSyncPeriod", di.minSyncPeriod())),
                new ProxyConfig.Ipvs(r.text("ipvs.scheduler", dv.scheduler()),
                        ipvsSync, r.duration("ipvs.minSyncPeriod", dv.minSyncPeriod()),
                        r.list("ipvs.excludeCIDRs"), r.bool("ipvs.strictARP", dv.strictARP()),
                        r.duration("ipvs.tcpTimeout", dv.tcpTimeout()), r.duration("ipvs.tcpFinTimeout", dv.tcpFinTimeout()),
                        r.duration("ipvs.udpTimeout", dv.udpTimeout())),
                new ProxyConfig.Conntrack(r.integer("conntrack.maxPerCore", dc.maxPerCore()), r.integer("conntrack.min", dc.min()),
                        r.duration("conntrack.tcpEstablishedTimeout", dc.tcpEstablishedTimeout()),
                        r.duration("conntrack.tcpCloseWaitTimeout", dc.tcpCloseWaitTimeout()),
                        r.bool("conntrack.tcpBeLiberal", dc.tcpBeLiberal()),
                        r.duration("conntrack.udpTimeout", dc.udpTimeout()),
                        r.duration("conntrack.udpStreamTimeout", dc.udpStreamTimeout())),
                new ProxyConfig.ClientConnection(r.text("clientConnection.contentType", dcc.contentType()),
                        r.number("clientConnection.qps", dcc.qps()), r.integer("clientConnection.burst", dcc.burst())),
                new ProxyConfig.Logging(r.text("logging.format", d.logging().format()),
                        r.integer("logging.verbosity", d.logging().verbosity())),
                r.gates("featureGates"),
                r.integer("oomScoreAdj", d.oomScoreAdj()),
                detect.isEmpty() ? d.detectLocalMode() : detect,
                d.master(),
                unused);
        validate(config);
        return config;
    }

    /** Parses --feature-gates' text, {@code A=true,B=false}, as upstream's flag does. */
    public static Map<String, Boolean> parseFeatureGates(String text) throws ConfigException {
        Map<String, Boolean> gates = new TreeMap<>();
        for (String part : text.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] kv = part.split("=", 2);
            String value = kv.length == 2 ? kv[1].strip().toLowerCase(java.util.Locale.ROOT) : "";
            if (kv.length != 2 || kv[0].isBlank() || !(value.equals("true") || value.equals("false"))) {
                throw new ConfigException("featureGates: expected key=true|false pairs, got \"" + part.strip() + "\"");
            }
            gates.put(kv[0].strip(), Boolean.parseBoolean(value));
        }
        return gates;
    }

    public static List<String> splitCIDRs(String text) {
        List<String> result = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                result.add(part.strip());
            }
        }
        return result;
    }

    /** Checks everything a flag or the file can set; messages name the field. */
    public static void validate(ProxyConfig c) throws ConfigException {
        if (!c.mode().equals("iptables") && !c.mode().equals("ipvs")) {
            throw new ConfigException("mode: must be \"iptables\" or \"ipvs\", got \"" + c.mode() + "\"");
        }
        bindAddress("healthzBindAddress", c.healthzBindAddress());
        bindAddress("metricsBindAddress", c.metricsBindAddress());
        if (c.iptables().masqueradeBit() < 0 || c.iptables().masqueradeBit() > 31) {
            throw new ConfigException("iptables.masqueradeBit: must be within [0, 31], got " + c.iptables().masqueradeBit());
        }
        periods("iptables", c.iptables().syncPeriod(), c.iptables().minSyncPeriod());
        periods("ipvs", c.ipvs().syncPeriod(), c.ipvs().minSyncPeriod());
        for (String cidr : c.clusterCIDRs()) {
            cidr("clusterCIDR", cidr);
        }
        for (String cidr : c.ipvs().excludeCIDRs()) {
            cidr("ipvs.excludeCIDRs", cidr);
        }
        for (String entry : c.nodePortAddresses()) {
            if (!Set.of("primary", "localhost", "all").contains(entry)) {
                cidr("nodePortAddresses", entry);
            }
        }
        if (c.configSyncPeriod().isNegative()) {
            throw new ConfigException("configSyncPeriod: must be >= 0");
        }
        if (c.conntrack().maxPerCore() < 0 || c.conntrack().min() < 0) {
            throw new ConfigException("conntrack.maxPerCore/min: must be >= 0");
        }
        for (Map.Entry<String, Duration> t : Map.of("conntrack.tcpEstablishedTimeout", c.conntrack().tcpEstablishedTimeout(),
                "conntrack.tcpCloseWaitTimeout", c.conntrack().tcpCloseWaitTimeout(), "conntrack.udpTimeout", c.conntrack().udpTimeout(),
                "conntrack.udpStreamTimeout", c.conntrack().udpStreamTimeout(), "ipvs.tcpTimeout", c.ipvs().tcpTimeout(),
                "ipvs.tcpFinTimeout", c.ipvs().tcpFinTimeout(), "ipvs.udpTimeout", c.ipvs().udpTimeout()).entrySet()) {
            if (t.getValue().isNegative()) {
                throw new ConfigException(t.getKey() + ": must be greater than or equal to 0");
            }
        }
        if (!c.detectLocalMode().equals("ClusterCIDR")) {
            throw new ConfigException("detectLocalMode: kube-ferry supports ClusterCIDR (or empty), got \"" + c.detectLocalMode() + "\"");
        }
        if (c.oomScoreAdj() < -1000 || c.oomScoreAdj() > 1000) {
            throw new ConfigException("oomScoreAdj: must be within [-1000, 1000], got " + c.oomScoreAdj());
        }
        if (!c.logging().format().equals("text") && !c.logging().format().equals("json")) {
            throw new ConfigException("logging.format: unsupported log format \"" + c.logging().format() + "\" (kube-ferry has text and json)");
        }
        if (c.logging().verbosity() < 0) {
            throw new ConfigException("logging.verbosity: must be >= 0, got " + c.logging().verbosity());
        }
        if (c.clientConnection().qps() < 0 || c.clientConnection().burst() < 0) {
            throw new ConfigException("clientConnection.qps/burst: must be >= 0");
        }
    }

    private static void periods(String section, Duration sync, Duration min) throws ConfigException {
        if (sync.isNegative() || sync.isZero()) {
            throw new ConfigException(section + ".syncPeriod: must be greater than 0");
        }
        if (min.isNegative()) {
            throw new ConfigException(section + ".minSyncPeriod: must be greater than or equal to 0");
        }
    }

    private static void cidr(String field, String value) throws ConfigException {
        if (value.contains(":")) {
            return; // IPv6 CIDRs are accepted (dual-stack configs) and unused while kube-ferry is IPv4-only.
        }
        try {
            Cidr.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(field + ": " + e.getMessage());
        }
    }

    private static void bindAddress(String field, String value) throws ConfigException {
        if (value.isEmpty()) {
            return;
        }
        try {
            HostPort.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(field + ": " + e.getMessage());
        }
    }

    /**
     * Every field of the input must be a field of the schema (the defaults' tree): strict, as upstream decodes.
     * Fields kube-ferry does not act on are collected when they differ from the default.
     */
    private static void checkFields(ObjectNode node, ObjectNode schema, String prefix, Map<String, String> unused) throws ConfigException {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            String path = prefix.isEmpty() ? name : prefix + "." + name;
            JsonNode known = schema.get(name);
            if (known == null) {
                throw new ConfigException("unknown field \"" + path + "\"");
            }
            JsonNode value = node.get(name);
            if (value.isNull()) {
                continue;
            }
            boolean isUnused = UNUSED.contains(path) || UNUSED.stream().anyMatch(u -> path.startsWith(u + "."));
            if (known.isObject() && !OPAQUE.contains(path)) {
                if (!value.isObject()) {
                    throw new ConfigException(path + ": must be an object");
                }
                checkFields((ObjectNode) value, (ObjectNode) known, path, unused);
            } else if (isUnused && !text(value).equals(text(known))) {
                unused.put(path, text(value));
            }
        }
    }

    private static String text(JsonNode node) {
        return node.isValueNode() ? node.asText() : node.toString();
    }

    /** Typed access by dotted path, with errors that name the path. */
    private record Reader(JsonNode root) {

        JsonNode at(String path) {
            JsonNode node = root;
            for (String part : path.split("\\.")) {
                node = node == null ? null : node.get(part);
            }
            return node == null || node.isNull() ? null : node;
        }

        String text(String path, String fallback) throws ConfigException {
            JsonNode n = at(path);
            if (n == null) {
                return fallback;
            }
            if (!n.isTextual()) {
                throw new ConfigException(path + ": must be a string");
            }
            return n.asText();
        }

        boolean bool(String path, boolean fallback) throws ConfigException {
            JsonNode n = at(path);
            if (n == null) {
                return fallback;
            }
            if (!n.isBoolean()) {
                throw new ConfigException(path + ": must be true or false, got " + n);
            }
            return n.asBoolean();
        }

        int integer(String path, int fallback) throws ConfigException {
            JsonNode n = at(path);
            if (n == null) {
                return fallback;
            }
            if (!n.isIntegralNumber()) {
                throw new ConfigException(path + ": must be an integer, got " + n);
            }
            return n.asInt();
        }

        float number(String path, float fallback) throws ConfigException {
            JsonNode n = at(path);
            if (n == null) {
                return fallback;
            }
            if (!n.isNumber()) {
                throw new ConfigException(path + ": must be a number, got " + n);
            }
            return n.floatValue();
        }

        Map<String, Boolean> gates(String path) throws ConfigException {
            JsonNode n = at(path);
            Map<String, Boolean> gates = new TreeMap<>();
            if (n == null) {
                return gates;
            }
            if (!n.isObject()) {
                throw new ConfigException(path + ": must be a map of gate names to true or false");
            }
            Iterator<Map.Entry<String, JsonNode>> fields = n.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> e = fields.next();
                if (!e.getValue().isBoolean()) {
                    throw new ConfigException(path + "." + e.getKey() + ": must be true or false, got " + e.getValue());
                }
                gates.put(e.getKey(), e.getValue().asBoolean());
            }
            return gates;
        }

        Duration duration(String path, Duration fallback) throws ConfigException {
            JsonNode n = at(path);
            if (n == null) {
                return fallback;
            }
            try {
                return GoDuration.parse(n.asText());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(path + ": " + e.getMessage());
            }
        }

        List<String> list(String path) throws ConfigException {
            JsonNode n = at(path);
            if (n == null) {
                return List.of();
            }
            if (!n.isArray()) {
                throw new ConfigException(path + ": must be a list");
            }
            List<String> result = new ArrayList<>();
            for (JsonNode item : n) {
                result.add(item.asText());
            }
            return result;
        }
    }
}
