package io.kubeferry.proxy.cli;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.kubeferry.proxy.Agent;
import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.exec.ProcessToolRunner;
import io.kubeferry.proxy.exec.RequiredTools;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.state.ObjectFiles;
import io.kubeferry.proxy.state.StaticState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "cleanup", description = "Remove everything kube-ferry (or kube-proxy) programmed on this node, in every mode.")
final class CleanupCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws Exception {
        ProxyConfig config = options.resolve();
        ToolRunner tools = new ProcessToolRunner(config.netns());
        int failures = 0;
        for (DataplaneProvider provider : DataplaneProvider.all()) {
            if (options.mode != null && !provider.mode().equals(config.mode())) {
                continue;
            }
            try {
                provider.create(new DataplaneContext(config, tools, new SimpleMeterRegistry())).cleanup();
            } catch (Exception e) {
                System.err.println("kube-ferry: cleanup of " + provider.mode() + " mode failed: " + e.getMessage());
                failures++;
            }
        }
        return failures == 0 ? 0 : 1;
    }
}
