package io.kubeferry.proxy.state;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StaticStateTest {

    private static final Path EXAMPLE = Path.of("../examples/cluster.yaml");

    @Test
    void theStateDoesNotDependOnTheObjectsOrder() throws Exception {
        List<HasMetadata> objects = ObjectFiles.read(EXAMPLE);
        StaticState.Result reference = StaticState.build(objects, "node-a", "");
        for (long seed = 1; seed <= 5; seed++) {
            List<HasMetadata> shuffled = new ArrayList<>(objects);
            Collections.shuffle(shuffled, new Random(seed));
            StaticState.Result again = StaticState.build(shuffled, "node-a", "");
            assertEquals(reference.state().services(), again.state().services());
            assertEquals(reference.state().node(), again.state().node());
        }
        assertEquals(List.of(), reference.skipped());
    }

    @Test
    void unknownKindsAndConflictingDuplicatesAreReported() throws Exception {
        List<HasMetadata> objects = new ArrayList<>(ObjectFiles.read(EXAMPLE));
        objects.addAll(ObjectFiles.read(EXAMPLE)); // the same objects again: used once, not an error
        objects.add(new ConfigMapBuilder().withNewMetadata().withName("settings").withNamespace("shop").endMetadata().build());
        var web = ClusterStateTest.service("web", "198.19.0.10");
        web.getMetadata().setNamespace("shop");
        objects.add(web); // differs from the example's shop/web
        StaticState.Result result = StaticState.build(objects, "node-a", "");
        assertEquals(List.of("ConfigMap shop/settings skipped (unknown-kind)", "Service shop/web skipped (duplicate-object)"),
                result.skipped().stream()
                        .map(s -> s.kind() + " " + s.namespace() + "/" + s.name() + " skipped (" + s.problem().reason() + ")").toList());
        assertEquals(5, result.state().services().size(), "shop/web is out; the others stay");
    }
}
