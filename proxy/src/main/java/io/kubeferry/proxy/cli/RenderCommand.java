package io.kubeferry.proxy.cli;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.state.ObjectFiles;
import io.kubeferry.proxy.state.StaticState;
import io.kubeferry.proxy.watch.ClusterWatch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "render", description = "Print the program the agent would apply, without root and without changing the machine.")
final class RenderCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Option(names = {"-f",
            "--filename"}, description = "A YAML/JSON file or directory of Services, EndpointSlices, Nodes and ServiceCIDRs; - for standard input.")
    List<Path> files = new ArrayList<>();

    @Option(names = "--node-ip", paramLabel = "IP", description = "This node's address, for NodePorts (repeatable, IPv4 or IPv6);"
            + " default: the InternalIP/ExternalIP addresses of the Node object named by --hostname-override in the input."
            + " Given for one family, it replaces that family's addresses only.")
    List<String> nodeIPs = new ArrayList<>();

    @Option(names = "--ip-family", paramLabel = "FAMILY", description = "Which IP families' programs to print: IPv4, IPv6 or both."
            + " Default: the IPv4 program, then the IPv6 program when the input has IPv6 Services. both also prints the IPv6"
            + " program without IPv6 Services: the skeleton the agent programs on a node that runs IPv6. When two programs"
            + " are printed, each follows a comment line naming its family and the tool that takes it.")
    String ipFamily;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Prints the program for every object that could be used. Exit 1 when any file was unreadable or any
     * object (or part) skipped, each named on stderr (the WARN lines), so scripts notice; 0 otherwise.
     */
    @Override
    public Integer call() throws Exception {
        ProxyConfig config = options.resolve();
        List<HasMetadata> objects = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        if (files.isEmpty() && options.kubeconfig == null && options.config == null) {
            throw new ConfigException("render needs -f FILE (or --kubeconfig to read a cluster)");
        }
        for (Path file : files) {
            if (!file.toString().equals("-") && !Files.exists(file)) {
                throw new ConfigException("-f " + file + ": no such file or directory");
            }
        }
        for (Path file : files) {
            ObjectFiles.Read read = file.toString().equals("-")
                    ? ObjectFiles.readText("<stdin>", new String(System.in.readAllBytes(), StandardCharsets.UTF_8))
                    : ObjectFiles.readAll(List.of(file));
            objects.addAll(read.objects());
            unreadable.addAll(read.problems());
        }
        if (files.isEmpty()) {
            try (KubernetesClient client = Main.client(config)) {
                objects.addAll(client.services().inAnyNamespace().list().getItems());
                objects.addAll(client.discovery().v1().endpointSlices().inAnyNamespace().list().getItems());
                objects.addAll(client.nodes().list().getItems());
                try {
                    objects.addAll(client.network().v1().serviceCIDRs().list().getItems());
                } catch (KubernetesClientException e) {
                    // As the agent: a cluster without them (or that hides them) renders without the drop rule.
                    String reason = ClusterWatch.unavailableReason(e).orElseThrow(() -> e);
                    spec.commandLine().getErr().println("kube-ferry: ServiceCIDRs not read: " + reason);
                }
            }
        }
        Set<IpFamily> asked = asked(ipFamily);
        StaticState.Result built = StaticState.build(objects, config.hostnameOverride(), config.serviceProxyName());
        for (String ip : nodeIPs) {
            if (IpFamily.of(ip) == null || ip.contains("/")) {
                throw new ConfigException("--node-ip: not an " + (ip.contains(":") ? "IPv6" : "IPv4") + " address: \"" + ip + "\"");
            }
        }
        DataplaneProvider provider = DataplaneProvider.forMode(config.mode());
        DataplaneContext context = new DataplaneContext(config, new Main.RefusingToolRunner(), new SimpleMeterRegistry());
        Map<IpFamily, ProxyState> states = new EnumMap<>(IpFamily.class);
        Map<IpFamily, Dataplane> dataplanes = new EnumMap<>(IpFamily.class);
        PrintWriter err = spec.commandLine().getErr();
        int leftOut = 0;
        for (IpFamily family : IpFamily.values()) {
            ProxyState state = withNodeIPs(familyState(built, family), nodeIPs);
            boolean wanted = asked == null ? family == IpFamily.IPv4 || !state.services().isEmpty() : asked.contains(family);
            if (!wanted) {
                continue;
            }
            if (!provider.families().contains(family)) {
                err.println("kube-ferry: render: " + family + " not rendered: " + config.mode() + " mode does not program " + family
                        + " in this build"
                        + (state.services().isEmpty() ? "" : " (" + state.services().size() + " Service ports left out)"));
                leftOut++;
                continue;
            }
            states.put(family, state);
            dataplanes.put(family, provider.create(context.withFamily(family)));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(render(config.mode(), dataplanes, states));
        out.flush();
        unreadable.forEach(problem -> err.println("kube-ferry: " + problem));
        if (unreadable.isEmpty() && built.skipped().isEmpty() && leftOut == 0) {
            err.flush();
            return 0;
        }
        err.println("kube-ferry: render: " + built.skipped().size() + " object(s) or part(s) skipped and " + unreadable.size()
                + " file(s) unreadable (reasons above); the program holds everything else");
        err.flush();
        return 1;
    }

    /**
     * The text {@code render} prints: the mode's header, then each family's program with its schedulers. With one
     * family it is exactly what render printed before dual-stack (the IPv4 goldens hold); with two, each family's
     * part follows a comment line naming it ({@link RenderHeader#family}). Pure: the dataplanes only render.
     */
    static String render(String mode, Map<IpFamily, Dataplane> dataplanes, Map<IpFamily, ProxyState> states) {
        StringBuilder text = new StringBuilder(RenderHeader.forMode(mode));
        boolean named = dataplanes.size() > 1 || !dataplanes.containsKey(IpFamily.IPv4);
        dataplanes.forEach((family, dataplane) -> {
            String program = dataplane.render(SyncRequest.full(states.get(family)));
            if (named) {
                text.append(RenderHeader.family(mode, family));
            }
            text.append(RenderHeader.schedulers(dataplane.schedulers())).append(program);
        });
        return text.toString();
    }

    /** The families --ip-family names; null for the default (IPv4, and IPv6 when it has Services). */
    static Set<IpFamily> asked(String value) throws ConfigException {
        if (value == null) {
            return null;
        }
        return switch (value.strip()) {
            case "IPv4" -> EnumSet.of(IpFamily.IPv4);
            case "IPv6" -> EnumSet.of(IpFamily.IPv6);
            case "both" -> EnumSet.allOf(IpFamily.class);
            default -> throw new ConfigException("--ip-family: must be IPv4, IPv6 or both, got \"" + value + "\"");
        };
    }

    /** One family's state from the input (the state stage builds both; an empty one renders the skeleton). */
    static ProxyState familyState(StaticState.Result built, IpFamily family) {
        ProxyState state = built.state(family);
        return state != null ? state : ProxyState.empty(built.state().node(), family);
    }

    /**
     * The state with --node-ip's addresses of its family as the node's, when any is of its family; canonical
     * ({@code 2001:DB8:2:0::9} is {@code 2001:db8:2::9}), as the state stage carries the Node's, so the program
     * prints them as the kernel tools do.
     */
    static ProxyState withNodeIPs(ProxyState state, List<String> nodeIPs) {
        List<String> own = nodeIPs.stream().filter(state.family()::matches).map(Cidr::canonical).toList();
        return own.isEmpty() ? state : state.withNode(state.node().withAddresses(own));
    }
}
