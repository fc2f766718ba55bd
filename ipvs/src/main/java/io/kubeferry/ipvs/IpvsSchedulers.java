package io.kubeferry.ipvs;

import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.scheduler.SchedulerProvider;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The IPVS algorithms, narrowed to those the running kernel has (module loaded, loadable or built in): the kernel's
 * own names, and the mode-neutral names other modes also offer where a kernel scheduler is that algorithm
 * ({@code source-hash} is {@code sh}, {@code maglev} is {@code mh}; {@code rr} is the same word in every mode). No
 * kernel scheduler picks at random ({@code rr} and {@code wrr} rotate, the hashing ones are deterministic), so
 * {@code random} is not offered and falls back to the default like any name this node lacks.
 */
final class IpvsSchedulers implements SchedulerProvider {

    static final List<String> ALL = List.of(
            "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf", "twos");

    /** Mode-neutral name -> the kernel scheduler that expresses it. */
    static final Map<String, String> NEUTRAL = Map.of("source-hash", "sh", "maglev", "mh");

    private final Set<String> available;

    /** @param kernelHas answers whether {@code ip_vs_<name>} exists, e.g. via modprobe or /sys/module */
    IpvsSchedulers(Predicate<String> kernelHas) {
        Set<String> s = new LinkedHashSet<>();
        for (String name : ALL)
            if (kernelHas.test(name))
                s.add(name);
        NEUTRAL.forEach((neutral, kernel) -> {
            if (s.contains(kernel))
                s.add(neutral);
        });
        this.available = Set.copyOf(s);
    }

    /** The scheduler ipvsadm is given for an offered name: the kernel's own for a mode-neutral one. */
    static String kernelName(String name) {
        return NEUTRAL.getOrDefault(name, name);
    }

    /**
     * The flags ipvsadm is given. A mode-neutral name promises that every client reaches a live endpoint, so it
     * takes the kernel's fallback flag too: without it, sh and mh refuse the clients hashed to a real server at
     * weight 0 (one draining after its endpoint went, graceful termination) until that server is deleted, where
     * with it they go on to the next server in the table and everyone else stays put (seen in the guest: 3 of 16
     * clients refused). The kernel names stay exactly as asked.
     */
    static Set<String> kernelFlags(String name, Set<String> flags) {
        String kernel = NEUTRAL.get(name);
        if (kernel == null) {
            return flags;
        }
        Set<String> all = new java.util.TreeSet<>(flags);
        all.add(kernel + "-fallback");
        return Set.copyOf(all);
    }

    /**
     * What /debug/state and render show: a mode-neutral name with the kernel scheduler that expresses it, e.g.
     * {@code maglev (mh)}, so the operator sees both what was asked and what {@code ipvsadm -Ln} will show.
     */
    static SchedulerInForce shown(SchedulerInForce s) {
        String kernel = kernelName(s.algorithm());
        return kernel.equals(s.algorithm())
                ? s
                : new SchedulerInForce(s.algorithm() + " (" + kernel + ")", kernelFlags(s.algorithm(), s.flags()), s.why(), s.reason());
    }

    @Override
    public Set<String> available() {
        return available;
    }

    @Override
    public Set<String> flagsFor(String scheduler) {
        return switch (kernelName(scheduler)) {
            case "sh" -> Set.of("sh-fallback", "sh-port");
            case "mh" -> Set.of("mh-fallback", "mh-port");
            default -> Set.of();
        };
    }

    @Override
    public String whyUnavailable(String name) {
        return name.equals("random") ? "no IPVS scheduler picks at random" : "";
    }
}
