package io.kubeferry.proxy.config;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Writes an effective configuration as a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) with every field
 * upstream has, as {@code --write-config-to} (YAML) and {@code /configz} (JSON) show it, through the same binding
 * that reads it ({@link ConfigBinding}): what is written reads back as the same configuration. kube-ferry's own
 * settings (netns, master, serviceProxyName) are not KubeProxyConfiguration fields and are not written.
 */
public final class KubeProxyConfigurationWriter {

    private KubeProxyConfigurationWriter() {
    }

    /** The configuration as a KubeProxyConfiguration YAML document. */
    public static String yaml(ProxyConfig config) {
        return ConfigBinding.yaml(config);
    }

    /** The configuration as upstream's /configz serves it: {@code {"kubeproxy.config.k8s.io": {...}}}. */
    public static String json(ProxyConfig config) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.set("kubeproxy.config.k8s.io", ConfigBinding.tree(config));
        return ConfigBinding.json(root);
    }
}
