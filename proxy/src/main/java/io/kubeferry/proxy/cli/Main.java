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

/** The kube-ferry command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error. */
@Command(name = "kube-ferry", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Replaces kube-proxy: programs iptables or IPVS so Service IPs reach their Pods.",
        subcommands = {RunCommand.class, RenderCommand.class, CleanupCommand.class, Main.VersionCommand.class})
public final class Main implements Callable<Integer> {

    static final int USAGE = 2;

    @Mixin
    ConfigOptions options;

    @Option(names = "--write-config-to", description = "Write the effective configuration as a KubeProxyConfiguration and exit.")
    Path writeConfigTo;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (main() exits with it). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof ConfigException) {
                line.getErr().println("kube-ferry: " + e.getMessage());
                return USAGE;
            }
            line.getErr().println("kube-ferry: " + e.getMessage());
            return 1;
        });
        return cli.execute(args);
    }

    /** With no subcommand, kube-ferry runs the agent (as kube-proxy does). */
    @Override
    public Integer call() throws Exception {
        if (writeConfigTo != null) {
            Files.writeString(writeConfigTo, ConfigWriter.write(options.resolve()));
            return 0;
        }
        RunCommand run = new RunCommand();
        run.options = options;
        return run.call();
    }

    @Command(name = "version", description = "Print the version.")
    static final class VersionCommand implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.println(new Version().getVersion()[0]);
            return 0;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"kube-ferry " + (v == null ? "dev" : v)};
        }
    }

    static KubernetesClient client(ProxyConfig config) {
        Config clientConfig = config.kubeconfig().isEmpty() ? Config.autoConfigure(null)
                : Config.fromKubeconfig(null, readKubeconfig(config.kubeconfig()), config.kubeconfig());
        return new KubernetesClientBuilder().withConfig(clientConfig).build();
    }

    private static String readKubeconfig(String path) {
        try {
            return Files.readString(Path.of(path));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("--kubeconfig " + path + ": " + e.getMessage(), e);
        }
    }

    /** render must not touch the machine: any tool call is a bug, reported loudly. */
    static final class RefusingToolRunner implements ToolRunner {
        @Override
        public io.kubeferry.proxy.exec.ToolResult run(io.kubeferry.proxy.exec.ToolCommand command) throws ToolException {
            throw new ToolException("render must not run tools, but was asked to run " + command.display(), null);
        }

        @Override
        public io.kubeferry.proxy.exec.ToolResult runAllowingFailure(io.kubeferry.proxy.exec.ToolCommand command) throws ToolException {
            return run(command);
        }
    }
}
