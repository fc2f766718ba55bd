package io.kubeferry.proxy.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * A YAML document's leaves by JSON pointer ({@code /ipvs/excludeCIDRs/0 -> 198.19.0.0/24}, null as "null"), so two
 * KubeProxyConfigurations (kube-proxy's and kube-ferry's) compare field by field regardless of layout.
 */
public final class DocumentLeaves {

    private DocumentLeaves() {
    }

    public static Map<String, String> of(String yaml) {
        try {
            Map<String, String> out = new TreeMap<>();
            collect(new ObjectMapper(new YAMLFactory()).readTree(yaml), "", out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The leaves whose values differ: pointer to {@code "theirs -> ours"} (a leaf only one side has shows as null). */
    public static Map<String, String> differing(Map<String, String> theirs, Map<String, String> ours) {
        Map<String, String> out = new TreeMap<>();
        theirs.forEach((k, v) -> {
            if (!v.equals(ours.get(k))) {
                out.put(k, v + " -> " + ours.get(k));
            }
        });
        ours.forEach((k, v) -> {
            if (!theirs.containsKey(k)) {
                out.put(k, null + " -> " + v);
            }
        });
        return out;
    }

    private static void collect(JsonNode node, String at, Map<String, String> out) {
        if (node.isObject()) {
            node.properties().forEach(e -> collect(e.getValue(), at + "/" + e.getKey(), out));
        } else if (node.isArray() && !node.isEmpty()) {
            for (int i = 0; i < node.size(); i++) {
                collect(node.get(i), at + "/" + i, out);
            }
        } else {
            out.put(at, node.isNull() ? "null" : node.isValueNode() ? node.asText() : node.toString());
        }
    }
}
