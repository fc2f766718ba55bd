package io.kubeferry.it.manifests;

import io.fabric8.kubernetes.api.model.KubernetesResource;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Validates objects against the Kubernetes OpenAPI schema as Fabric8's generated model encodes it: the
 * model accepts any field but parks the ones the schema lacks in "additionalProperties", so a misspelt
 * field (say {@code tolerations[0].operater}) shows up there. Type mismatches already fail while parsing.
 */
final class SchemaCheck {

    private SchemaCheck() {
    }

    /** Every path whose object carries fields the schema does not define. */
    static List<String> unknownFields(Object root, String path) {
        List<String> problems = new ArrayList<>();
        walk(root, path, problems, 0);
        return problems;
    }

    private static void walk(Object value, String path, List<String> problems, int depth) {
        if (value == null || depth > 40) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                walk(item, path + "[" + i++ + "]", problems, depth + 1);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> walk(v, path + "." + k, problems, depth + 1));
            return;
        }
        if (!(value instanceof KubernetesResource)) {
            return;
        }
        for (Method getter : value.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers()) || !getter.getName().startsWith("get")
                    || getter.getName().equals("getClass")) {
                continue;
            }
            Object child;
            try {
                child = getter.invoke(value);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    problems.add(path + ": fields not in the schema: " + extra.keySet());
                }
                continue;
            }
            String name = Character.toLowerCase(getter.getName().charAt(3)) + getter.getName().substring(4);
            walk(child, path + "." + name, problems, depth + 1);
        }
    }
}
