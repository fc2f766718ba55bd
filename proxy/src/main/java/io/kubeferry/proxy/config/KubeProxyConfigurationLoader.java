package io.kubeferry.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubeferry.proxy.model.Cidr;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) into a {@link ProxyConfig} through
 * {@link ConfigBinding}, and validates it. Strict: an unknown field or a bad value stops start-up with the field's
 * path, because a typo silently ignored in a node agent means a cluster that routes differently from what its
 * operator believes.
 */
public final class KubeProxyConfigurationLoader {

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
        ObjectNode fields = ConfigBinding.fields(ConfigBinding.readYaml(yaml));
        // Upstream reads only the active mode's periods and its --write-config-to leaves the others at 0s: such a
        // 0s means "not set", not "never sync".
        JsonNode mode = fields.path("mode");
        String active = mode.isTextual() && !mode.asText().isEmpty() ? mode.asText() : ProxyConfig.defaults().mode();
        for (String section : ConfigBinding.modeSections()) {
            if (!section.equals(active) && fields.path(section) instanceof ObjectNode s && isZero(s.path("syncPeriod"))) {
                s.remove("syncPeriod");
            }
        }
        ProxyConfig config = ConfigBinding.bind(fields);
        validate(config);
        return config;
    }

    private static boolean isZero(JsonNode period) {
        try {
            return period.isTextual() && GoDuration.parse(period.asText()).isZero();
        } catch (IllegalArgumentException e) {
            return false; // the binding reports it with the field's path
        }
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

    /**
     * Checks everything a flag or the file can set; messages name the field. The mode itself, and the fields only
     * one mode reads (the ipvs section: excludeCIDRs, timeouts, scheduler), are the registered dataplanes' to check
     * (DataplaneProvider.validateMode, called by the command line after this), as upstream validates a mode's
     * section only in that mode: this package sits below the dataplane SPI, and adding a mode touches no code here.
     */
    public static void validate(ProxyConfig c) throws ConfigException {
        bindAddress("healthzBindAddress", c.healthzBindAddress());
        bindAddress("metricsBindAddress", c.metricsBindAddress());
        if (c.iptables().masqueradeBit() < 0 || c.iptables().masqueradeBit() > 31) {
            throw new ConfigException("iptables.masqueradeBit: must be within [0, 31], got " + c.iptables().masqueradeBit());
        }
        for (String section : ConfigBinding.modeSections()) {
            ProxyConfig.ModeSection s = ConfigBinding.modeSection(c, section).defaulted();
            periods(section, s.syncPeriod(), s.minSyncPeriod());
        }
        clusterCIDRs(c.clusterCIDRs());
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
                "conntrack.udpStreamTimeout", c.conntrack().udpStreamTimeout()).entrySet()) {
            nonNegative(t.getKey(), t.getValue());
        }
        if (!c.detectLocalMode().equals("ClusterCIDR")) {
            throw new ConfigException("detectLocalMode: kube-ferry supports ClusterCIDR (or empty), got \"" + c.detectLocalMode() + "\"");
        }
        if (c.oomScoreAdj() < -1000 || c.oomScoreAdj() > 1000) {
            throw new ConfigException("oomScoreAdj: must be within [-1000, 1000], got " + c.oomScoreAdj());
        }
        if (!c.logging().format().equals("text") && !c.logging().format().equals("json")) {
            throw new ConfigException(
                    "logging.format: unsupported log format \"" + c.logging().format() + "\" (kube-ferry has text and json)");
        }
        if (c.logging().verbosity() < 0) {
            throw new ConfigException("logging.verbosity: must be >= 0, got " + c.logging().verbosity());
        }
        int m = c.own().hashTableSize();
        if (m < 2 || m > 16381 || !java.math.BigInteger.valueOf(m).isProbablePrime(30)) {
            throw new ConfigException("--maglev-table-size: must be a prime within [2, 16381], got " + m);
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

    /** A timeout of 0 or more (0: leave the system's value); the message names the field. */
    public static void nonNegative(String field, Duration value) throws ConfigException {
        if (value.isNegative()) {
            throw new ConfigException(field + ": must be greater than or equal to 0");
        }
    }

    /**
     * Upstream's validateDualStackCIDRStrings for detectLocalMode ClusterCIDR: each entry a CIDR of either family, and
     * at most one per family (a single CIDR or a dual-stack pair); the pair's message is upstream's, word for word.
     */
    static void clusterCIDRs(List<String> cidrs) throws ConfigException {
        String pair = "clusterCIDR: must be a either a single CIDR or dual-stack pair of CIDRs (e.g. [10.100.0.0/16, fde4:8dba:82e1::/48]"
                + ", got \"" + String.join(",", cidrs) + "\"";
        if (cidrs.size() > 2) {
            throw new ConfigException(pair);
        }
        for (String cidr : cidrs) {
            cidr("clusterCIDR", cidr);
        }
        if (cidrs.size() == 2 && Cidr.parse(cidrs.get(0)).family() == Cidr.parse(cidrs.get(1)).family()) {
            throw new ConfigException(pair);
        }
    }

    /** A CIDR of either family; the message names the field. Also the modes' own checks'. */
    public static void cidr(String field, String value) throws ConfigException {
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
}
