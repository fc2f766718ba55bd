package io.kubeferry.proxy.dataplane;

import io.kubeferry.proxy.model.IpFamily;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The IP families a node runs in one mode, as upstream's MetaProxier decides them: a family runs when the mode
 * programs it ({@link DataplaneProvider#families()}), its tools are installed ({@link DataplaneProvider#requiredTools(IpFamily)})
 * and its instance's {@link Dataplane#checkKernel()} passes. Every other family is skipped with the reason; upstream
 * runs IPv6 whenever the node can, even with no IPv6 Service (it programs the skeleton), and so does kube-ferry.
 *
 * @param running the instance per family that runs, in family order (IPv4, IPv6)
 * @param skipped why each other family does not run
 * @param failure for each family whose check failed, what it threw (rethrown when no family runs, as before dual-stack)
 */
public record NodeFamilies(Map<IpFamily, Dataplane> running, Map<IpFamily, String> skipped, Map<IpFamily, Exception> failure) {

    public NodeFamilies {
        running = ordered(running);
        skipped = ordered(skipped);
        failure = ordered(failure);
    }

    private static <V> Map<IpFamily, V> ordered(Map<IpFamily, V> map) {
        Map<IpFamily, V> copy = new EnumMap<>(IpFamily.class);
        copy.putAll(map);
        return Collections.unmodifiableMap(copy);
    }

    /**
     * Creates {@code provider}'s instance for each family and checks it (tools, kernel); blocks (the kernel checks run
     * tools). The context's own family is ignored: each instance gets {@code context.withFamily(f)}.
     */
    public static NodeFamilies probe(DataplaneProvider provider, DataplaneContext context) {
        Map<IpFamily, Dataplane> running = new EnumMap<>(IpFamily.class);
        Map<IpFamily, String> skipped = new EnumMap<>(IpFamily.class);
        Map<IpFamily, Exception> failure = new EnumMap<>(IpFamily.class);
        for (IpFamily family : IpFamily.values()) {
            if (!provider.families().contains(family)) {
                skipped.put(family, provider.mode() + " mode does not program " + family + " in this build");
                continue;
            }
            Optional<String> missing = context.tools().missingTools(provider.mode(), provider.requiredTools(family));
            if (missing.isPresent()) {
                skipped.put(family, missing.get());
                failure.put(family, new IllegalStateException(missing.get()));
                continue;
            }
            try {
                Dataplane dataplane = provider.create(context.withFamily(family));
                dataplane.checkKernel();
                running.put(family, dataplane);
            } catch (DataplaneException | RuntimeException e) {
                skipped.put(family, e.getMessage());
                failure.put(family, e);
            }
        }
        return new NodeFamilies(running, skipped, failure);
    }

    /** The families that run without a check: for a caller that checked them already ({@code run} before connecting). */
    public static NodeFamilies unchecked(DataplaneProvider provider, DataplaneContext context, java.util.Set<IpFamily> families) {
        if (families.isEmpty()) {
            throw new IllegalArgumentException("no IP family to program");
        }
        Map<IpFamily, Dataplane> running = new EnumMap<>(IpFamily.class);
        for (IpFamily family : IpFamily.values()) {
            if (families.contains(family)) {
                running.put(family, provider.create(context.withFamily(family)));
            }
        }
        return new NodeFamilies(running, Map.of(), Map.of());
    }

    /**
     * Fails as a node that cannot run this mode failed before dual-stack: with what IPv4's check threw (or, for a
     * mode without IPv4, the first family's), when no family runs.
     *
     * @throws Exception the check's own exception (a {@link DataplaneException} from the kernel check, an
     *                   {@link IllegalStateException} naming missing tools)
     */
    public NodeFamilies requireOne() throws Exception {
        if (running.isEmpty()) {
            Optional<Exception> first = failure.values().stream().findFirst();
            throw first.orElseGet(() -> new IllegalStateException("no IP family to program: " + skipped.values()));
        }
        return this;
    }

    /** One WARN line per skipped family: {@code IPv6 not programmed: <why>}. */
    public void logSkipped(org.slf4j.Logger log) {
        skipped.forEach((family, why) -> log.warn("{} not programmed: {}", family, why));
    }
}
