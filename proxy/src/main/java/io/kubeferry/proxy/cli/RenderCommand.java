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
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "render", description = "Print the program the agent would apply, without root and without changing the machine.")
final class RenderCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Option(names = {"-f",
            "--filename"}, description = "A YAML/JSON file or directory of Services, EndpointSlices, Nodes and ServiceCIDRs; - for standard input.")
    List<Path> files = new ArrayList<>();

    @Option(names = "--node-ip", paramLabel = "IP", description = "This node's address, for NodePorts (repeatable); default: the"
            + " InternalIP/ExternalIP addresses of the Node object named by --hostname-override in the input.")
    List<String> nodeIPs = new ArrayList<>();

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
        StaticState.Result built = StaticState.build(objects, config.hostnameOverride(), config.serviceProxyName());
        ProxyState state = built.state();
        if (!nodeIPs.isEmpty()) {
            for (String ip : nodeIPs) {
                if (!io.kubeferry.proxy.model.Cidr.isIPv4(ip)) {
                    throw new ConfigException("--node-ip: not an IPv4 address: \"" + ip + "\"");
                }
            }
            state = state.withNode(state.node().withAddresses(nodeIPs));
        }
        Dataplane dataplane = DataplaneProvider.forMode(config.mode())
                .create(new DataplaneContext(config, new Main.RefusingToolRunner(), new SimpleMeterRegistry()));
        PrintWriter out = spec.commandLine().getOut();
        String program = dataplane.render(SyncRequest.full(state));
        out.print(RenderHeader.forMode(config.mode()));
        out.print(RenderHeader.schedulers(dataplane.schedulers()));
        out.print(program);
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        unreadable.forEach(problem -> err.println("kube-ferry: " + problem));
        if (unreadable.isEmpty() && built.skipped().isEmpty()) {
            return 0;
        }
        err.println("kube-ferry: render: " + built.skipped().size() + " object(s) or part(s) skipped and " + unreadable.size()
                + " file(s) unreadable (reasons above); the program holds everything else");
        err.flush();
        return 1;
    }
}
