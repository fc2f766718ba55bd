package io.kubeferry.proxy.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;

/**
 * Where kube-ferry finds the programs it runs, and the start-up check that they are installed, so a node
 * missing e.g. ipvsadm fails at start-up with the tool's name instead of at the first sync with an opaque
 * exec error. {@link ProcessToolRunner} runs the paths this lookup finds: the check and the execution agree.
 */
public final class RequiredTools {

    private final List<Path> searchPath;
    private final Predicate<Path> executable;

    RequiredTools(List<Path> searchPath, Predicate<Path> executable) {
        this.searchPath = List.copyOf(searchPath);
        this.executable = executable;
    }

    /** Looks in $PATH plus the sbin directories, which a non-login root shell may lack. */
    public static RequiredTools fromEnvironment() {
        String path = System.getenv().getOrDefault("PATH", "");
        List<Path> dirs = new java.util.ArrayList<>();
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                dirs.add(Path.of(dir));
            }
        }
        for (String sbin : List.of("/usr/local/sbin", "/usr/sbin", "/sbin")) {
            if (!dirs.contains(Path.of(sbin))) {
                dirs.add(Path.of(sbin));
            }
        }
        return new RequiredTools(dirs, Files::isExecutable);
    }

    /** The directories searched, in order. */
    public List<Path> searchPath() {
        return searchPath;
    }

    /** Where {@code tool} is on the search path, if anywhere. */
    public java.util.Optional<Path> locate(String tool) {
        return searchPath.stream().map(dir -> dir.resolve(tool)).filter(executable).findFirst();
    }

    /** The tools from {@code tools} that are found nowhere on the search path, in the given order. */
    public List<String> missing(Collection<String> tools) {
        return tools.stream().filter(tool -> locate(tool).isEmpty()).toList();
    }

    /**
     * @throws IllegalStateException naming every missing tool and the mode that needs it
     */
    public void require(String mode, Collection<String> tools) {
        java.util.Optional<String> absent = why(mode, tools);
        if (absent.isPresent()) {
            throw new IllegalStateException(absent.get());
        }
    }

    /** Why {@code mode} cannot run here: the tools of {@code tools} found nowhere and where they were looked for. */
    public java.util.Optional<String> why(String mode, Collection<String> tools) {
        List<String> absent = missing(tools);
        if (absent.isEmpty()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("proxy mode " + mode + " needs " + String.join(", ", absent) + ", not found in " + searchPath
                + "; install them on the node (or use the kube-ferry image)");
    }
}
