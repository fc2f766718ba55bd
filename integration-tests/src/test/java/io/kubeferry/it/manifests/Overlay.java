package io.kubeferry.it.manifests;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kubeferry.proxy.exec.RequiredTools;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** One kustomize overlay under manifests/overlays, built with the real `kubectl kustomize`. */
record Overlay(String mode, String yaml, List<HasMetadata> objects) {

    static final Path REPO = locateRepo();

    static Optional<String> kubectl() {
        return RequiredTools.fromEnvironment().locate("kubectl").map(Path::toString);
    }

    /** Every overlay's name (its directory under manifests/overlays, the mode it sets), sorted: tests cover each. */
    static List<String> modes() throws IOException {
        try (var dirs = Files.list(REPO.resolve("manifests/overlays"))) {
            return dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().toList();
        }
    }

    static Overlay build(String kubectl, String mode) throws IOException, InterruptedException {
        Path dir = REPO.resolve("manifests/overlays").resolve(mode);
        Process process = new ProcessBuilder(kubectl, "kustomize", dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("kubectl kustomize " + dir + " failed");
        }
        String yaml = new String(out, StandardCharsets.UTF_8);
        List<HasMetadata> objects = new KubernetesSerialization().unmarshal(new ByteArrayInputStream(out));
        return new Overlay(mode, yaml, objects);
    }

    <T extends HasMetadata> T only(Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        if (found.size() != 1) {
            throw new AssertionError("overlay " + mode + ": expected one " + type.getSimpleName() + ", found " + found.size());
        }
        return found.get(0);
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static Path locateRepo() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("manifests/overlays"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("manifests/overlays not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
