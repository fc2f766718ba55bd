package io.kubeferry.proxy.scheduler;

import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePort;
import io.kubeferry.proxy.model.ServicePortName;

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

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SchedulerCatalog.class);

    private final SchedulerProvider provider;
    private final Scheduler fallback;
    /** Where {@link #fallback} comes from, for {@link #inForce}. */
    private final SchedulerInForce.Why fallbackWhy;

    /** A catalog whose default is the mode's own. */
    public SchedulerCatalog(SchedulerProvider provider, Scheduler fallback) {
        this(provider, fallback, SchedulerInForce.Why.MODE_DEFAULT);
    }

    private SchedulerCatalog(SchedulerProvider provider, Scheduler fallback, SchedulerInForce.Why fallbackWhy) {
        this.provider = provider;
        this.fallback = fallback;
        this.fallbackWhy = fallbackWhy;
    }

    /**
     * The catalog for one mode on this node: Services without an annotation get the node's configured default
     * ({@code --scheduler}) when the mode can express it, else the mode's own default, said once in the log (a
     * node-wide setting is the operator's, not one Service's: no Event).
     *
     * @param configured  the node default as configured ("" = none)
     * @param modeDefault the mode's default, e.g. {@code random} in iptables mode
     */
    public static SchedulerCatalog forNode(String mode, SchedulerProvider provider, String configured, String modeDefault) {
        String name = configured == null ? "" : configured.trim();
        if (!name.isEmpty() && !provider.available().contains(name)) {
            LOG.warn("the node's default scheduler \"{}\" is not one {} mode offers ({}); Services without a {} annotation get "
                    + "\"{}\"", name, mode, new java.util.TreeSet<>(provider.available()), SCHEDULER_KEY, modeDefault);
            name = "";
        }
        return name.isEmpty()
                ? new SchedulerCatalog(provider, new Scheduler(modeDefault, Set.of()))
                : new SchedulerCatalog(provider, new Scheduler(name, Set.of()), SchedulerInForce.Why.NODE_DEFAULT);
    }

    /** What Services get when they ask for nothing (or for something this mode cannot give). */
    public Scheduler fallback() {
        return fallback;
    }

    /** The Service ports of a state whose annotation cannot be honoured here, with the reason. */
    public Map<ServicePortName, String> fallbacks(ProxyState state) {
        Map<ServicePortName, String> fell = new java.util.HashMap<>();
        for (ResolvedService svc : state.services().values()) {
            choose(svc.port()).fallbackReason().ifPresent(reason -> fell.put(svc.name(), reason));
        }
        return fell;
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
            String why = provider.whyUnavailable(name);
            return new SchedulerChoice(fallback, Optional.of("scheduler \"" + name + "\" is not available on this node"
                    + (why.isEmpty() ? "" : " (" + why + ")") + "; using \"" + fallback.name() + "\""));
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

    /**
     * What a port got and why, for {@code /debug/state} and {@code render}.
     *
     * @param choice the choice as it ended: {@link #choose}'s, or the one a dataplane fell back to when the algorithm
     *               failed
     */
    public SchedulerInForce inForce(ServicePort port, SchedulerChoice choice) {
        Scheduler s = choice.scheduler();
        if (choice.fellBack()) {
            return new SchedulerInForce(s.name(), s.flags(), SchedulerInForce.Why.FALLBACK, choice.fallbackReason().get());
        }
        String asked = option(port.options(), SCHEDULER_KEY);
        SchedulerInForce.Why why = asked != null && !asked.isBlank() ? SchedulerInForce.Why.ANNOTATION : fallbackWhy;
        return new SchedulerInForce(s.name(), s.flags(), why, "");
    }

    /**
     * Every port's {@link #inForce} for a mode in which the catalog's choice is final (no algorithm runs that could
     * fail, e.g. nftables mode while it offers only {@code random}): what its {@code Dataplane.schedulers()} returns.
     */
    public Map<ServicePortName, SchedulerInForce> inForce(ProxyState state) {
        Map<ServicePortName, SchedulerInForce> all = new java.util.HashMap<>();
        for (ResolvedService svc : state.services().values()) {
            all.put(svc.name(), inForce(svc.port(), choose(svc.port())));
        }
        return Map.copyOf(all);
    }

    /** ServiceConverter keeps kube-ferry's annotations under their full keys. */
    private static String option(Map<String, String> options, String key) {
        return options.get(key);
    }
}
