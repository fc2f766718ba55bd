package io.kubeferry.proxy.dataplane;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.ProxyConfig;

import java.util.List;
import java.util.ServiceLoader;

/**
 * Registers a dataplane under its mode name ({@code META-INF/services/io.kubeferry.proxy.dataplane.DataplaneProvider}).
 */
public interface DataplaneProvider {

    /**
     * The mode name operators set in {@code mode:} / {@code --proxy-mode}; also the KubeProxyConfiguration section
     * the mode reads its sync periods from, as upstream names them ({@code iptables:}, {@code ipvs:}). The
     * configuration's valid modes are the registered providers' ({@link #validateMode}).
     */
    String mode();

    /** Creates the dataplane; must not touch the kernel yet. */
    Dataplane create(DataplaneContext context);

    /**
     * The programs this mode runs (e.g. {@code iptables-restore}, {@code ipvsadm}); the agent checks at
     * start-up that each is installed and names the missing ones. Asked of the provider, so nothing builds a
     * dataplane to find out.
     */
    default List<String> requiredTools() {
        return List.of();
    }

    /**
     * The programs this mode runs for one IP family (e.g. {@code ip6tables-restore} for IPv6). A family whose
     * tools are missing is not programmed (logged once, as upstream skips a family the node cannot run); IPv4
     * defaults to {@link #requiredTools()}, IPv6 to the same list, for a mode whose tools serve both families.
     */
    default List<String> requiredTools(io.kubeferry.proxy.model.IpFamily family) {
        return requiredTools();
    }

    /**
     * The IP families this mode can program: an instance is created (by the agent, {@code render}, {@code cleanup})
     * only for these. IPv4 alone by default, so a backend that does not yet read {@link DataplaneContext#family()}
     * is never handed an IPv6 state (it would program it into its IPv4 tables); a backend that programs IPv6
     * returns both.
     */
    default java.util.Set<io.kubeferry.proxy.model.IpFamily> families() {
        return java.util.EnumSet.of(io.kubeferry.proxy.model.IpFamily.IPv4);
    }

    /**
     * Checks the settings only this mode reads (e.g. {@code ipvs.scheduler}) when the configuration is
     * resolved for this mode, as upstream validates a mode's section only when that mode is chosen.
     *
     * @throws ConfigException naming the field and what is wrong with it
     */
    default void validate(ProxyConfig config) throws ConfigException {
    }

    /** Runs the chosen mode's {@link #validate} (when that mode's provider is on the class path). */
    static void validateMode(ProxyConfig config) throws ConfigException {
        // The modes are the registered dataplanes': adding one touches no configuration code.
        List<String> modes = all().stream().map(DataplaneProvider::mode).sorted().toList();
        if (!modes.contains(config.mode())) {
            throw new ConfigException("mode: must be " + alternatives(modes) + ", got \"" + config.mode() + "\"");
        }
        for (DataplaneProvider provider : all()) {
            if (provider.mode().equals(config.mode())) {
                provider.validate(config);
            }
        }
    }

    /** Every provider on the class path. */
    static List<DataplaneProvider> all() {
        return ServiceLoader.load(DataplaneProvider.class).stream().map(ServiceLoader.Provider::get).toList();
    }

    /** The provider for a mode, or an error naming the modes that exist. */
    static DataplaneProvider forMode(String mode) {
        List<DataplaneProvider> all = all();
        return all.stream().filter(p -> p.mode().equals(mode)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown proxy mode \"" + mode + "\"; available: "
                        + all.stream().map(DataplaneProvider::mode).sorted().toList()));
    }

    /** {@code "a"}, {@code "a" or "b"}, {@code "a", "b" or "c"}. */
    private static String alternatives(List<String> modes) {
        if (modes.isEmpty()) {
            return "the mode of a registered dataplane (none is on the class path)";
        }
        List<String> quoted = modes.stream().map(m -> "\"" + m + "\"").toList();
        return quoted.size() == 1
                ? quoted.get(0)
                : String.join(", ", quoted.subList(0, quoted.size() - 1)) + " or " + quoted.get(quoted.size() - 1);
    }
}
