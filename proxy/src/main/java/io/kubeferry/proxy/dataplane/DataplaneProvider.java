package io.kubeferry.proxy.dataplane;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.ProxyConfig;

import java.util.List;
import java.util.ServiceLoader;

/**
 * Registers a dataplane under its mode name ({@code META-INF/services/io.kubeferry.proxy.dataplane.DataplaneProvider}).
 */
public interface DataplaneProvider {

    /** The mode name operators set in {@code mode:} / {@code --proxy-mode}. */
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
     * Checks the settings only this mode reads (e.g. {@code ipvs.scheduler}) when the configuration is
     * resolved for this mode, as upstream validates a mode's section only when that mode is chosen.
     *
     * @throws ConfigException naming the field and what is wrong with it
     */
    default void validate(ProxyConfig config) throws ConfigException {
    }

    /** Runs the chosen mode's {@link #validate} (when that mode's provider is on the class path). */
    static void validateMode(ProxyConfig config) throws ConfigException {
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
}
