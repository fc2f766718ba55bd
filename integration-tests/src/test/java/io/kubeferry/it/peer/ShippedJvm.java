package io.kubeferry.it.peer;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.Serialization;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The JVM settings kube-ferry gets on a node, read from what ships (never a copy): the options file of the
 * image ({@code dist/src/main/jvm/jvm.options}, passed as {@code java @file}) when there is one, with the
 * class-data sharing archive the image builds beside it (made here for the jar under test by the image's own
 * {@code cds-archive.sh}), the DaemonSet's {@code JAVA_TOOL_OPTIONS} (manifests/base/daemonset.yaml) when it sets
 * them, and the DaemonSet's memory limit. In the pod the JVM sees that limit as the machine's memory and sizes
 * its heap from it; a bare process here would size it from the whole machine instead, so the limit is passed as
 * {@code -XX:MaxRAM}.
 */
record ShippedJvm(List<String> arguments, Optional<String> javaToolOptions, String description) {

    static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    static final Path OPTIONS_FILE = REPOSITORY.resolve("dist/src/main/jvm/jvm.options");
    static final Path DAEMONSET = REPOSITORY.resolve("manifests/base/daemonset.yaml");
    /** The image's archive builder, beside the options file; absent before the image had one. */
    static final Path CDS_SCRIPT = OPTIONS_FILE.resolveSibling("cds-archive.sh");

    ShippedJvm {
        arguments = List.copyOf(arguments);
    }

    /** The settings as the repository holds them now, with the image's CDS archive for {@link PeerBed#JAR}. */
    static ShippedJvm current() {
        try {
            ShippedJvm jvm = read(OPTIONS_FILE, DAEMONSET);
            return Files.isExecutable(CDS_SCRIPT) ? jvm.withArchive(Archive.PATH) : jvm;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read kube-ferry's shipped JVM settings: " + e.getMessage(), e);
        }
    }

    /** The same plus the image's {@code -XX:SharedArchiveFile} (its ENTRYPOINT passes it after the options file). */
    ShippedJvm withArchive(Path archive) {
        List<String> more = new ArrayList<>(arguments);
        more.add("-XX:SharedArchiveFile=" + archive);
        return new ShippedJvm(more, javaToolOptions,
                description + "; the CDS archive the image builds (" + REPOSITORY.relativize(CDS_SCRIPT)
                        + ", made for this jar)");
    }

    /**
     * The archive, built once per test JVM (the jar is rebuilt with every build) for the jar at the path the agent
     * is started with: the JVM uses an archive only with the class path it was dumped with.
     */
    private static final class Archive {

        static final Path PATH = build();

        private static Path build() {
            try {
                Path dir = Files.createDirectories(Path.of("target", "peer").toAbsolutePath());
                Path archive = dir.resolve("kube-ferry.jsa");
                Files.deleteIfExists(archive);
                Process p = new ProcessBuilder(CDS_SCRIPT.toString(), PeerBed.JAR.toString(), archive.toString())
                        .redirectErrorStream(true).redirectOutput(dir.resolve("cds-archive.log").toFile()).start();
                if (!p.waitFor(5, java.util.concurrent.TimeUnit.MINUTES) || p.exitValue() != 0 || !Files.isRegularFile(archive)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(CDS_SCRIPT + " failed; see " + dir.resolve("cds-archive.log"));
                }
                return archive;
            } catch (IOException e) {
                throw new IllegalStateException("cannot build the CDS archive: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while building the CDS archive", e);
            }
        }
    }

    static ShippedJvm read(Path optionsFile, Path daemonSet) throws IOException {
        Container container;
        try (InputStream in = Files.newInputStream(daemonSet)) {
            container = Serialization.unmarshal(in, DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().get(0);
        }
        List<String> args = new ArrayList<>();
        List<String> from = new ArrayList<>();
        Quantity limit = container.getResources() == null || container.getResources().getLimits() == null
                ? null
                : container.getResources().getLimits().get("memory");
        if (limit != null) {
            args.add("-XX:MaxRAM=" + Quantity.getAmountInBytes(limit).toBigInteger());
            from.add("-XX:MaxRAM from the DaemonSet's memory limit (" + limit + ")");
        }
        if (Files.isRegularFile(optionsFile)) {
            args.add("@" + optionsFile);
            from.add("@" + REPOSITORY.relativize(optionsFile.toAbsolutePath()) + " ("
                    + String.join(" ", Files.readAllLines(optionsFile).stream()
                            .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList())
                    + ")");
        }
        Optional<String> tool = Optional.ofNullable(container.getEnv()).orElse(List.of()).stream()
                .filter(e -> e.getName().equals("JAVA_TOOL_OPTIONS")).map(EnvVar::getValue).findFirst();
        tool.ifPresent(t -> from.add("JAVA_TOOL_OPTIONS=\"" + t + "\" from " + REPOSITORY.relativize(daemonSet.toAbsolutePath())));
        return new ShippedJvm(args, tool, from.isEmpty() ? "the JDK's defaults (nothing shipped)" : String.join("; ", from));
    }

    /** The environment the agent's process gets (the DaemonSet's JAVA_TOOL_OPTIONS). */
    Map<String, String> environment() {
        return javaToolOptions.map(t -> Map.of("JAVA_TOOL_OPTIONS", t)).orElse(Map.of());
    }
}
