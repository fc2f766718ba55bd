package io.kubeferry.proxy.config;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;

/**
 * The two modes, registered for this module's tests only (the real dataplanes live in modules that depend on this
 * one): the configuration asks the registered providers which modes exist. Kept out of the test-jar.
 */
public final class ModeStubs {

    private ModeStubs() {
    }

    public static final class Iptables implements DataplaneProvider {
        @Override
        public String mode() {
            return "iptables";
        }

        @Override
        public Dataplane create(DataplaneContext context) {
            throw new UnsupportedOperationException("a stub: the iptables dataplane is in the iptables module");
        }
    }

    public static final class Ipvs implements DataplaneProvider {
        @Override
        public String mode() {
            return "ipvs";
        }

        @Override
        public Dataplane create(DataplaneContext context) {
            throw new UnsupportedOperationException("a stub: the IPVS dataplane is in the ipvs module");
        }
    }
}
