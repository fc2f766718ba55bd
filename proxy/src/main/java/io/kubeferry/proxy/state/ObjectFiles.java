package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads Kubernetes objects from YAML/JSON files (several documents allowed), directories of them, or
 * standard input. A file that cannot be read or parsed is reported with its name (and, for YAML syntax
 * errors, line and column) and the other files are still read: one broken file must not hide the rest.
 */
public final class ObjectFiles {

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private ObjectFiles() {
    }

    /**
     * What a set of inputs held.
     *
     * @param objects  every object read, in input order
     * @param problems one line per file that could not be read (objects in it are not in {@code objects})
     */
    public record Read(List<HasMetadata> objects, List<String> problems) {

        public Read {
            objects = List.copyOf(objects);
            problems = List.copyOf(problems);
        }
    }

    /**
     * Reads one file or directory, strictly.
     *
     * @throws IOException              when a file cannot be read
     * @throws IllegalArgumentException naming the file (and line and column) when its content is not Kubernetes objects
     */
    public static List<HasMetadata> read(Path path) throws IOException {
        List<HasMetadata> objects = new ArrayList<>();
        for (Path file : files(path)) {
            objects.addAll(parse(file.toString(), Files.readString(file)));
        }
        return objects;
    }

    /** Reads files and directories, leniently: each unreadable file becomes a problem, the others are read. */
    public static Read readAll(List<Path> paths) {
        List<HasMetadata> objects = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path path : paths) {
            List<Path> files;
            try {
                files = files(path);
            } catch (IOException e) {
                problems.add(path + ": cannot be read: " + e.getMessage());
                continue;
            }
            for (Path file : files) {
                try {
                    objects.addAll(parse(file.toString(), Files.readString(file)));
                } catch (IOException e) {
                    problems.add(file + ": cannot be read: " + e.getMessage());
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                }
            }
        }
        return new Read(objects, problems);
    }

    /** Reads text already in hand (standard input) leniently, naming it {@code source} in problems. */
    public static Read readText(String source, String text) {
        try {
            return new Read(parse(source, text), List.of());
        } catch (IllegalArgumentException e) {
            return new Read(List.of(), List.of(e.getMessage()));
        }
    }

    private static List<Path> files(Path path) throws IOException {
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
        return files;
    }

    /** @throws IllegalArgumentException naming {@code source}, with line and column for YAML syntax errors */
    static List<HasMetadata> parse(String source, String text) {
        Object parsed;
        try {
            parsed = SERIALIZATION.unmarshal(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(source + ": " + describe(e), e);
        }
        List<HasMetadata> objects = new ArrayList<>();
        collect(parsed, objects, source);
        return objects;
    }

    /** The first line of the parser's complaint, with the position of the problem where YAML knows it. */
    private static String describe(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MarkedYamlEngineException marked && marked.getProblemMark().isPresent()) {
                var mark = marked.getProblemMark().get();
                return "not valid YAML at line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ": "
                        + marked.getProblem() + "; nothing in this file is rendered";
            }
        }
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        int newline = message.indexOf('\n');
        return "not Kubernetes objects: " + (newline < 0 ? message : message.substring(0, newline)) + "; nothing in this file is rendered";
    }

    private static void collect(Object parsed, List<HasMetadata> into, String source) {
        if (parsed == null) {
            return;
        }
        if (parsed instanceof KubernetesList list) {
            into.addAll(list.getItems());
        } else if (parsed instanceof List<?> many) {
            for (Object item : many) {
                collect(item, into, source);
            }
        } else if (parsed instanceof HasMetadata object) {
            into.add(object);
        } else {
            throw new IllegalArgumentException(source + ": not Kubernetes objects (found " + parsed.getClass().getSimpleName()
                    + "); nothing in this file is rendered");
        }
    }
}
