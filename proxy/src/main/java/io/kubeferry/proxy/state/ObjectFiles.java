package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reads Kubernetes objects from a YAML/JSON file (several documents allowed) or a directory of them. */
public final class ObjectFiles {

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private ObjectFiles() {
    }

    /**
     * @throws IOException              when a file cannot be read
     * @throws IllegalArgumentException naming the file when its content is not Kubernetes objects
     */
    public static List<HasMetadata> read(Path path) throws IOException {
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(path)) {
            try (Stream<Path> walk = Files.walk(path)) {
                walk.filter(Files::isRegularFile)
                        .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml") || p.toString().endsWith(".json"))
                        .sorted().forEach(files::add);
            }
        } else {
            files.add(path);
        }
        List<HasMetadata> objects = new ArrayList<>();
        for (Path file : files) {
            String text = Files.readString(file);
            Object parsed;
            try {
                parsed = SERIALIZATION.unmarshal(text);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ": not Kubernetes objects: " + e.getMessage(), e);
            }
            collect(parsed, objects, file);
        }
        return objects;
    }

    private static void collect(Object parsed, List<HasMetadata> into, Path file) {
        if (parsed == null) {
            return;
        }
        if (parsed instanceof KubernetesList list) {
            into.addAll(list.getItems());
        } else if (parsed instanceof List<?> many) {
            for (Object item : many) {
                collect(item, into, file);
            }
        } else if (parsed instanceof HasMetadata object) {
            into.add(object);
        } else {
            throw new IllegalArgumentException(file + ": unexpected content " + parsed.getClass().getSimpleName());
        }
    }
}
