package io.kubeferry.iptables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.model.IpFamily;

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

    /** Both: an instance made for IPv6 programs ip6tables (see {@link IptablesDataplane}). */
    @Override
    public java.util.Set<IpFamily> families() {
        return java.util.EnumSet.allOf(IpFamily.class);
    }

    /** ip6tables' for IPv6 (the same names, ip6tables-*): a node without them runs IPv4 alone. */
    @Override
    public List<String> requiredTools(IpFamily family) {
        return family == IpFamily.IPv4
                ? requiredTools()
                : List.of("ip6tables-restore", "ip6tables-save", "ip6tables", "ip", "sysctl", "conntrack");
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        return new IptablesDataplane(context);
    }
}
