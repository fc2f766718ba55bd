package io.kubeferry.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.kubeferry.proxy.model.Cidr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) into a {@link ProxyConfig}. Strict:
 * an unknown field or a bad value stops start-up with the field's path, because a typo silently ignored
 * in a node agent means a cluster that routes differently from what its operator believes.
 */
public final class KubeProxyConfigurationLoader {

    private static final Logger LOG = LoggerFactory.getLogger(KubeProxyConfigurationLoader.class);
    static final String API_VERSION = "kubeproxy.config.k8s.io/v1alpha1";

    /** Upstream fields kube-ferry accepts but does not act on (logged once). */
    private static final Set<String> IGNORED = Set.of("featureGates", "logging", "bindAddress", "bindAddressHardFail",
            "enableProfiling", "showHiddenMetricsForVersion", "oomScoreAdj", "portRange", "winkernel", "nftables",
            "windowsRunAsService", "detectLocal", "clientConnection.acceptContentTypes", "clientConnection.contentType",
            "clientConnection.qps", "clientConnection.burst", "conntrack.tcpBeLiberal", "conntrack.udpTimeout",
            "conntrack.udpStreamTimeout", "apiVersion", "kind");

    private static final Map<String, Set<String>> KNOWN = Map.of(
            "", Set.of("clientConnection", "hostnameOverride", "healthzBindAddress", "metricsBindAddress", "mode",
                    "clusterCIDR", "nodePortAddresses", "iptables", "ipvs", "conntrack", "configSyncPeriod", "detectLocalMode"),
            "clientConnection", Set.of("kubeconfig"),
            "iptables", Set.of("masqueradeAll", "masqueradeBit", "localhostNodePorts", "syncPeriod", "minSyncPeriod"),
            "ipvs", Set.of("scheduler", "syncPeriod", "minSyncPeriod", "excludeCIDRs", "strictARP", "tcpTimeout", "tcpFinTimeout", "udpTimeout"),
            "conntrack", Set.of("maxPerCore", "min", "tcpEstablishedTimeout", "tcpCloseWaitTimeout"));

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
        checkFields((ObjectNode) root, "");
        Reader r = new Reader(root);
        ProxyConfig d = ProxyConfig.defaults();
        ProxyConfig.Iptables di = d.iptables();
        ProxyConfig.Ipvs dv = d.ipvs();
        ProxyConfig.Conntrack dc = d.conntrack();
        ProxyConfig config = new ProxyConfig(
                r.text("mode", d.mode()).isEmpty() ? d.mode() : r.text("mode", d.mode()),
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
                        r.duration("iptables.syncPeriod", di.syncPeriod()),
                        r.duration("iptables.minSyncPeriod", di.minSyncPeriod())),
                new ProxyConfig.Ipvs(r.text("ipvs.scheduler", dv.scheduler()),
                        r.duration("ipvs.syncPeriod", dv.syncPeriod()), r.duration("ipvs.minSyncPeriod", dv.minSyncPeriod()),
                        r.list("ipvs.excludeCIDRs"), r.bool("ipvs.strictARP", dv.strictARP()),
                        r.duration("ipvs.tcpTimeout", dv.tcpTimeout()), r.duration("ipvs.tcpFinTimeout", dv.tcpFinTimeout()),
                        r.duration("ipvs.udpTimeout", dv.udpTimeout())),
                new ProxyConfig.Conntrack(r.integer("conntrack.maxPerCore", dc.maxPerCore()), r.integer("conntrack.min", dc.min()),
                        r.duration("conntrack.tcpEstablishedTimeout", dc.tcpEstablishedTimeout()),
                        r.duration("conntrack.tcpCloseWaitTimeout", dc.tcpCloseWaitTimeout())));
        String detect = r.text("detectLocalMode", "");
        if (!detect.isEmpty() && !detect.equals("ClusterCIDR")) {
            throw new ConfigException("detectLocalMode: kube-ferry supports ClusterCIDR (or empty), got \"" + detect + "\"");
        }
        validate(config);
        return config;
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
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new ConfigException(field + ": must be host:port, got \"" + value + "\"");
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new ConfigException(field + ": port must be 0-65535, got \"" + value + "\"");
        }
    }

    private static void checkFields(ObjectNode node, String prefix) throws ConfigException {
        Iterator<String> names = node.fieldNames();
        List<String> ignored = new ArrayList<>();
        while (names.hasNext()) {
            String name = names.next();
            String path = prefix.isEmpty() ? name : prefix + "." + name;
            if (IGNORED.contains(path) || IGNORED.contains(prefix)) {
                if (!name.equals("apiVersion") && !name.equals("kind") && !node.get(name).isNull()) {
                    ignored.add(path);
                }
                continue;
            }
            Set<String> known = KNOWN.get(prefix);
            if (known == null || !known.contains(name)) {
                throw new ConfigException("unknown field \"" + path + "\"");
            }
            if (KNOWN.containsKey(path)) {
                JsonNode child = node.get(name);
                if (child.isObject()) {
                    checkFields((ObjectNode) child, path);
                } else if (!child.isNull()) {
                    throw new ConfigException(path + ": must be an object");
                }
            }
        }
        if (!ignored.isEmpty()) {
            LOG.info("config fields accepted for compatibility but not used by kube-ferry: {}", ignored);
        }
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
