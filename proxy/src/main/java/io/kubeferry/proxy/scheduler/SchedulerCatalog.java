package io.kubeferry.proxy.scheduler;

import io.kubeferry.proxy.model.ServicePort;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Resolves a Service's {@code kube-ferry.io/scheduler} and {@code kube-ferry.io/scheduler-flags} annotations
 * against what the dataplane offers, falling back to the configured default with a reason.
 */
public final class SchedulerCatalog {

    public static final String SCHEDULER_KEY = "kube-ferry.io/scheduler";
    public static final String FLAGS_KEY = "kube-ferry.io/scheduler-flags";

    private final SchedulerProvider provider;
    private final Scheduler fallback;

    public SchedulerCatalog(SchedulerProvider provider, Scheduler fallback) {
        this.provider = provider;
        this.fallback = fallback;
    }

    public SchedulerChoice choose(ServicePort port) {
        return choose(port.options());
    }

    public SchedulerChoice choose(Map<String, String> options) {
        String name = option(options, SCHEDULER_KEY);
        if (name == null || name.isBlank()) {
            return new SchedulerChoice(fallback, Optional.empty());
        }
        name = name.trim();
        if (!provider.available().contains(name)) {
            return new SchedulerChoice(fallback, Optional.of("scheduler \"" + name
                    + "\" is not available on this node; using \"" + fallback.name() + "\""));
        }
        Set<String> flags = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        String raw = option(options, FLAGS_KEY);
        if (raw != null) {
            for (String f : raw.split(",")) {
                String flag = f.trim();
                if (flag.isEmpty())
                    continue;
                if (provider.flagsFor(name).contains(flag))
                    flags.add(flag);
                else
                    unknown.add(flag);
            }
        }
        if (!unknown.isEmpty()) {
            // A wrong flag means the operator's intent is unclear: use the default rather than half of it.
            return new SchedulerChoice(fallback, Optional.of("scheduler flags " + unknown + " are not valid for \""
                    + name + "\"; using \"" + fallback.name() + "\""));
        }
        return new SchedulerChoice(new Scheduler(name, flags), Optional.empty());
    }

    /** ServiceConverter keeps kube-ferry's annotations under their full keys. */
    private static String option(Map<String, String> options, String key) {
        return options.get(key);
    }
}
