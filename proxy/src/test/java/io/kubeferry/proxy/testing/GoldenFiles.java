package io.kubeferry.proxy.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A directory of golden files, {@code <name>.txt} each: the whole expected output of a renderer for one case,
 * reviewed line by line when it is written. Run the tests with {@code -Dkubeferry.updateGolden=true} to rewrite
 * the files from what the code renders now, then review the diff before committing it (shared by every mode's
 * renderer tests so they all update the same way).
 *
 * @param directory where the files live, relative to the module (Surefire runs in the module's directory)
 */
public record GoldenFiles(Path directory) {

    /** The system property that rewrites the files instead of comparing against them. */
    public static final String UPDATE = "kubeferry.updateGolden";

    /** {@code src/test/resources/golden}, the directory every module uses. */
    public static GoldenFiles standard() {
        return new GoldenFiles(Path.of("src/test/resources/golden"));
    }

    /** Fails, naming the file, unless {@code actual} is exactly the file's text (after rewriting it when asked). */
    public void check(String name, String actual) throws IOException {
        Path file = directory.resolve(name + ".txt");
        if (Boolean.getBoolean(UPDATE)) {
            Files.createDirectories(directory);
            Files.writeString(file, actual);
        }
        assertEquals(Files.readString(file), actual, "golden file " + file);
    }
}
