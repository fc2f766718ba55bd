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

    private abstract static class Stub implements DataplaneProvider {

        private final String mode;

        Stub(String mode) {
            this.mode = mode;
        }

        @Override
        public String mode() {
            return mode;
        }

        @Override
        public Dataplane create(DataplaneContext context) {
            throw new UnsupportedOperationException("a stub: the " + mode + " dataplane is in the " + mode + " module");
        }
    }

    public static final class Iptables extends Stub {

        public Iptables() {
            super("iptables");
        }
    }

    public static final class Ipvs extends Stub {

        public Ipvs() {
            super("ipvs");
        }
    }
}
