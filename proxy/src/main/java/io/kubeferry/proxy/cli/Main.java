package io.kubeferry.proxy.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.GoDuration;
import io.kubeferry.proxy.config.KubeProxyConfigurationWriter;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolRunner;
import io.kubeferry.proxy.watch.ApiReachability;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * The kube-ferry command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 *
 * <p>One set of options ({@link ConfigOptions}) serves every command and means the same before or after the
 * subcommand: the options given before it are copied onto the subcommand's, and the same option given on
 * both sides with different values is a usage error. kube-proxy's own actions ({@code --write-config-to},
 * {@code --cleanup}, {@code --version}) are decided here, once, whatever the command.
 */
@Command(name = "kube-ferry", versionProvider = Main.Version.class, description = "Replaces kube-proxy: programs iptables or IPVS so Service IPs reach their Pods. "
        + "With no command, runs the agent (as kube-proxy does); every kube-proxy 1.35 flag is accepted.", subcommands = {RunCommand.class,
                RenderCommand.class, CleanupCommand.class, Main.VersionCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    static final int USAGE = 2;
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    @Mixin
    ConfigOptions options;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (main() exits with it). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.registerConverter(Duration.class, GoDuration::parse);
        cli.setExecutionStrategy(Main::dispatch);
        abbreviateSynopsis(cli); // some 80 options: "[OPTIONS]" in the synopsis, the list below it
        cli.setParameterExceptionHandler((e, args) -> {
            // picocli's message and its suggestions, without the 80-option usage after them.
            CommandLine line = e.getCommandLine();
            line.getErr().println(e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, line.getErr());
            line.getErr().println("See '" + line.getCommandSpec().qualifiedName() + " --help'.");
            line.getErr().flush();
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("kube-ferry: " + e.getMessage());
            line.getErr().flush();
            return e instanceof ConfigException ? USAGE : 1;
        });
        return cli;
    }

    private static void abbreviateSynopsis(CommandLine line) {
        line.getCommandSpec().usageMessage().abbreviateSynopsis(true);
        line.getSubcommands().values().forEach(Main::abbreviateSynopsis);
    }

    /** Never called: {@link #dispatch} runs the agent when no command is given. */
    @Override
    public Integer call() {
        throw new IllegalStateException("kube-ferry's dispatch runs the agent");
    }

    /** What the command line asks for: the command to run and its options, before/after already merged. */
    record Invocation(CommandLine command, ConfigOptions options) {
    }

    /** Parses and merges without running anything (the tests read the effective options here). */
    static Invocation parse(String... args) {
        CommandLine cli = commandLine();
        return invocation(cli.parseArgs(args));
    }

    private static Invocation invocation(ParseResult top) {
        CommandLine root = top.commandSpec().commandLine();
        ConfigOptions before = ((Main) root.getCommand()).options;
        List<CommandLine> chain = top.asCommandLineList();
        CommandLine leaf = chain.get(chain.size() - 1);
        if (leaf == root) {
            leaf = root.getSubcommands().get("run");
        }
        ConfigOptions after = optionsOf(leaf.getCommandSpec());
        if (after == null) {
            if (!given(before).isEmpty()) {
                throw new CommandLine.ParameterException(leaf, "'" + leaf.getCommandName() + "' takes none of "
                        + given(before) + ": give them to run, render or cleanup");
            }
            return new Invocation(leaf, null);
        }
        merge(leaf, before, after);
        boolean run = leaf.getCommand() instanceof RunCommand;
        if (Boolean.TRUE.equals(after.initOnly) && !run) {
            throw new CommandLine.ParameterException(leaf, "--init-only applies to the agent (run), not to " + leaf.getCommandName());
        }
        if (Boolean.TRUE.equals(after.cleanup) && !run && !(leaf.getCommand() instanceof CleanupCommand)) {
            throw new CommandLine.ParameterException(leaf, "--cleanup applies to the agent (run), not to " + leaf.getCommandName());
        }
        if (run && Boolean.TRUE.equals(after.cleanup)) {
            // kube-proxy --cleanup: clean up and exit, through the cleanup command with the same options.
            CommandLine cleanup = root.getSubcommands().get("cleanup");
            ConfigOptions cleanupOptions = optionsOf(cleanup.getCommandSpec());
            merge(cleanup, after, cleanupOptions);
            return new Invocation(cleanup, cleanupOptions);
        }
        return new Invocation(leaf, after);
    }

    private static int dispatch(ParseResult top) throws CommandLine.ExecutionException {
        if (CommandLine.printHelpIfRequested(top)) {
            return 0;
        }
        Invocation call = invocation(top);
        CommandLine command = call.command();
        try {
            ConfigOptions o = call.options();
            if (o == null) {
                return new CommandLine.RunLast().execute(top);
            }
            if (o.version != null) {
                command.getOut().println(Version.text());
                command.getOut().flush();
                return 0;
            }
            ProxyConfig config = o.resolve();
            LogSettings.apply(config.logging());
            StartupWarnings.log(o, config);
            if (o.writeConfigTo != null) {
                Files.writeString(o.writeConfigTo, KubeProxyConfigurationWriter.yaml(config));
                LOG.info("wrote the effective configuration to {}", o.writeConfigTo);
                return 0;
            }
            @SuppressWarnings("unchecked")
            Callable<Integer> callable = (Callable<Integer>) command.getCommand();
            return callable.call();
        } catch (CommandLine.ParameterException | CommandLine.ExecutionException e) {
            throw e;
        } catch (Exception e) {
            throw new CommandLine.ExecutionException(command, String.valueOf(e.getMessage()), e);
        }
    }

    /** The ConfigOptions a command mixes in, or null for commands without them (version, help). */
    private static ConfigOptions optionsOf(CommandSpec spec) {
        for (CommandSpec mixin : spec.mixins().values()) {
            if (mixin.userObject() instanceof ConfigOptions options) {
                return options;
            }
        }
        return null;
    }

    /** Copies the options given before the subcommand onto its own; the same option twice must agree. */
    private static void merge(CommandLine command, ConfigOptions from, ConfigOptions to) {
        if (from == to) {
            return;
        }
        for (Field f : ConfigOptions.class.getDeclaredFields()) {
            Option option = f.getAnnotation(Option.class);
            if (option == null || f.getType().isPrimitive()) {
                continue;
            }
            try {
                Object value = f.get(from);
                Object existing = f.get(to);
                if (value == null) {
                    continue;
                }
                if (existing != null && !Objects.equals(existing, value)) {
                    throw new CommandLine.ParameterException(command, option.names()[option.names().length - 1]
                            + " is given both before and after '" + command.getCommandName() + "' with different values ("
                            + value + ", " + existing + ")");
                }
                f.set(to, value);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static List<String> given(ConfigOptions options) {
        return java.util.Arrays.stream(ConfigOptions.class.getDeclaredFields())
                .filter(f -> f.isAnnotationPresent(Option.class) && !f.getType().isPrimitive())
                .filter(f -> {
                    try {
                        return f.get(options) != null;
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(e);
                    }
                })
                .map(f -> f.getAnnotation(Option.class).names()[0]).toList();
    }

    @Command(name = "version", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Print the version, the git commit and the build date.")
    static final class VersionCommand implements Callable<Integer> {

        @CommandLine.Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().println(Version.text());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    /** The version, commit and build date the build wrote into kube-ferry-version.properties. */
    static final class Version implements CommandLine.IVersionProvider {

        @Override
        public String[] getVersion() {
            return new String[] {text()};
        }

        static String text() {
            java.util.Properties p = new java.util.Properties();
            try (var in = Main.class.getResourceAsStream("/kube-ferry-version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (java.io.IOException e) {
                // Reported as unknown below.
            }
            return "kube-ferry " + value(p, "version") + " (commit " + value(p, "commit") + ", built " + value(p, "buildDate") + ")";
        }

        /** A property the build filled in; unfilled (no git, no resource filtering) reads as "unknown". */
        private static String value(java.util.Properties p, String key) {
            String v = p.getProperty(key, "").strip();
            return v.isEmpty() || v.contains("${") ? "unknown" : v;
        }
    }

    /** A client with Fabric8's own HTTP client (commands that run no agent). */
    static KubernetesClient client(ProxyConfig config) {
        return builder(config).build();
    }

    /**
     * The client the agent watches with, {@code reachability} installed on its HTTP client, which runs on the
     * agent's own {@code vertx}: Fabric8 would otherwise start a second Vert.x, with its own event loops,
     * blocked-thread checker and Netty buffer arenas (about 10 MB resident and a few threads for nothing).
     * {@code serialization} may already hold deserializers built ahead (ListWarmUp).
     */
    static KubernetesClient client(ProxyConfig config, ApiReachability reachability, Vertx vertx, KubernetesSerialization serialization) {
        return reachability.installOn(builder(config).withHttpClientFactory(new VertxHttpClientFactory(vertx))
                .withKubernetesSerialization(serialization)).build();
    }

    private static KubernetesClientBuilder builder(ProxyConfig config) {
        Config clientConfig = config.kubeconfig().isEmpty()
                ? Config.autoConfigure(null)
                : Config.fromKubeconfig(null, readableKubeconfig(config.kubeconfig()));
        if (!config.master().isEmpty()) {
            clientConfig.setMasterUrl(config.master());
        }
        return new KubernetesClientBuilder().withConfig(clientConfig);
    }

    /** The kubeconfig file, once it is known to be readable: a missing file is named the way the flag was given. */
    private static java.io.File readableKubeconfig(String path) {
        try {
            Files.newInputStream(Path.of(path)).close();
            return Path.of(path).toFile();
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
