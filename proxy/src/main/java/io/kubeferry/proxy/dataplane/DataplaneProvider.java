package io.kubeferry.proxy.dataplane;

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
