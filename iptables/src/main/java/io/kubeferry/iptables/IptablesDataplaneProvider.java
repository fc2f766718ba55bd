package io.kubeferry.iptables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;

import java.util.List;

/** Registers iptables mode with the agent core. */
public final class IptablesDataplaneProvider implements DataplaneProvider {

    @Override
    public String mode() {
        return "iptables";
    }

    @Override
    public List<String> requiredTools() {
        return List.of("iptables-restore", "iptables-save", "iptables", "ip", "sysctl", "conntrack");
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        return new IptablesDataplane(context);
    }
}
