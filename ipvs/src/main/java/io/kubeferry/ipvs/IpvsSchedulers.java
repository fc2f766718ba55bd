package io.kubeferry.ipvs;

import io.kubeferry.proxy.scheduler.SchedulerProvider;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/** The IPVS algorithms, narrowed to those the running kernel has (module loaded, loadable or built in). */
final class IpvsSchedulers implements SchedulerProvider {

    static final List<String> ALL = List.of(
            "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf", "twos");

    private final Set<String> available;

    /** @param kernelHas answers whether {@code ip_vs_<name>} exists, e.g. via modprobe or /sys/module */
    IpvsSchedulers(Predicate<String> kernelHas) {
        Set<String> s = new LinkedHashSet<>();
        for (String name : ALL)
            if (kernelHas.test(name))
                s.add(name);
        this.available = Set.copyOf(s);
    }

    @Override
    public Set<String> available() {
        return available;
    }

    @Override
    public Set<String> flagsFor(String scheduler) {
        return switch (scheduler) {
            case "sh" -> Set.of("sh-fallback", "sh-port");
            case "mh" -> Set.of("mh-fallback", "mh-port");
            default -> Set.of();
        };
    }
}
