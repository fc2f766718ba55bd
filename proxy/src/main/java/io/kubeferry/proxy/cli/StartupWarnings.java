package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.ProxyConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Says, once at start, what was given but is not acted on: one WARN line per kube-proxy flag with no effect,
 * one line listing the config file's unused fields, and one each for feature gates and client settings
 * kube-ferry's client cannot apply. Nothing given is dropped without a word.
 */
final class StartupWarnings {

    private static final Logger LOG = LoggerFactory.getLogger(StartupWarnings.class);

    private StartupWarnings() {
    }

    static void log(ConfigOptions options, ProxyConfig config) {
        for (Map.Entry<String, String> flag : options.noEffectFlags().entrySet()) {
            LOG.warn("kube-proxy flag {}={} has no effect in kube-ferry: ignored", flag.getKey(), flag.getValue());
        }
        Set<String> fromFlags = new TreeSet<>();
        for (var f : ConfigOptions.class.getDeclaredFields()) {
            ConfigOptions.NoEffect n = f.getAnnotation(ConfigOptions.NoEffect.class);
            if (n != null && !n.field().isEmpty() && options.noEffectFlags().containsKey(ConfigOptions.flagOf(f))) {
                fromFlags.add(n.field());
            }
        }
        List<String> fromFile = new ArrayList<>();
        config.unused().forEach((path, value) -> {
            if (!fromFlags.contains(path)) {
                fromFile.add(path + "=" + value);
            }
        });
        if (!fromFile.isEmpty()) {
            LOG.warn("config fields accepted for compatibility but not used by kube-ferry: {}", fromFile);
        }
        if (!config.featureGates().isEmpty()) {
            LOG.warn("featureGates {} have no effect: kube-ferry has none of kube-proxy's feature gates", config.featureGates());
        }
        ProxyConfig.ClientConnection client = config.clientConnection();
        ProxyConfig.ClientConnection defaults = ProxyConfig.defaults().clientConnection();
        if (client.qps() != defaults.qps() || client.burst() != defaults.burst()) {
            LOG.warn("clientConnection.qps={} and burst={} are not applied: kube-ferry's API client (Fabric8) has no request rate limiter",
                    client.qps(), client.burst());
        }
        if (!client.contentType().equals(defaults.contentType()) && !client.contentType().equals("application/json")) {
            LOG.warn("clientConnection.contentType={} is not applied: kube-ferry's API client speaks application/json",
                    client.contentType());
        }
    }
}
