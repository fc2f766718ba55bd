package io.kubeferry.iptables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;

/** Registers iptables mode with the agent core. */
public final class IptablesDataplaneProvider implements DataplaneProvider {

    @Override
    public String mode() {
        return "iptables";
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        return new IptablesDataplane(context);
    }
}
