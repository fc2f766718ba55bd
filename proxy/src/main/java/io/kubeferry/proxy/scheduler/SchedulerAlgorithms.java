package io.kubeferry.proxy.scheduler;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;

/** The table-driven algorithms this agent has: the built-ins, then the plugins on the class path (ServiceLoader). */
public final class SchedulerAlgorithms {

    private static final Logger LOG = LoggerFactory.getLogger(SchedulerAlgorithms.class);

    private final Map<String, SchedulerAlgorithm> byName;

    private SchedulerAlgorithms(Map<String, SchedulerAlgorithm> byName) {
        this.byName = Collections.unmodifiableMap(new LinkedHashMap<>(byName));
    }

    /** The built-ins only (render tests, and where plugins must not change the outcome). */
    public static SchedulerAlgorithms builtIn() {
        return of(List.of(), Set.of());
    }

    /**
     * The built-ins and every plugin on the class path. A plugin that cannot be loaded, or that takes a name already
     * taken (a built-in's, another plugin's, or one in {@code reserved}, e.g. a mode's kernel schedulers), is left out
     * with a logged reason; the rest still load.
     */
    public static SchedulerAlgorithms load(Set<String> reserved) {
        List<SchedulerAlgorithm> plugins = new java.util.ArrayList<>();
        var it = ServiceLoader.load(SchedulerAlgorithm.class).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                plugins.add(it.next());
            } catch (ServiceConfigurationError e) {
                LOG.error("a scheduler plugin could not be loaded, left out: {}", e.getMessage());
            }
        }
        return of(plugins, reserved);
    }

    static SchedulerAlgorithms of(List<SchedulerAlgorithm> plugins, Set<String> reserved) {
        Map<String, SchedulerAlgorithm> byName = new LinkedHashMap<>();
        BuiltInAlgorithms.all().forEach(a -> byName.put(a.name(), a));
        for (SchedulerAlgorithm plugin : plugins) {
            String name = plugin.name();
            if (name == null || name.isBlank() || byName.containsKey(name) || reserved.contains(name)) {
                LOG.error("scheduler plugin {} left out: its name \"{}\" is empty or already taken", plugin.getClass().getName(), name);
                continue;
            }
            LOG.info("scheduler plugin \"{}\" loaded from {}", name, plugin.getClass().getName());
            byName.put(name, plugin);
        }
        return new SchedulerAlgorithms(byName);
    }

    public Optional<SchedulerAlgorithm> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** Every name, built-ins first. */
    public Set<String> names() {
        return byName.keySet();
    }

    /**
     * A mode's offer: the algorithms among these it can express.
     *
     * @param expressible the names the mode can render (e.g. nftables today: {@code random} only)
     */
    public SchedulerProvider provider(java.util.function.Predicate<String> expressible) {
        Set<String> offered = names().stream().filter(expressible).collect(java.util.stream.Collectors.toUnmodifiableSet());
        return new SchedulerProvider() {

            @Override
            public Set<String> available() {
                return offered;
            }

            @Override
            public Set<String> flagsFor(String scheduler) {
                return offered.contains(scheduler) ? byName.get(scheduler).flags() : Set.of();
            }
        };
    }

    /**
     * The table for one choice: the algorithm's, checked; or, when the algorithm fails, the fallback algorithm's
     * with the reason.
     */
    public Scheduled schedule(SchedulerChoice choice, SchedulingInput input, String fallback) {
        SchedulerAlgorithm algorithm = byName.get(choice.scheduler().name());
        if (algorithm != null) {
            try {
                return new Scheduled(choice, algorithm.table(input).checkedFor(input));
            } catch (RuntimeException e) {
                String reason = "scheduler \"" + algorithm.name() + "\" failed (" + e + "); using \"" + fallback + "\"";
                LOG.warn("Service {}: {}", input.port().name(), reason);
                SchedulerChoice fell = new SchedulerChoice(new Scheduler(fallback, Set.of()), Optional.of(reason));
                return new Scheduled(fell, byName.get(fallback).table(input));
            }
        }
        throw new IllegalArgumentException("no table-driven algorithm \"" + choice.scheduler().name() + "\"");
    }

    /** A choice and the table it gave. */
    public record Scheduled(SchedulerChoice choice, SlotTable table) {
    }
}
