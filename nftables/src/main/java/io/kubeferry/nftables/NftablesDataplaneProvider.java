package io.kubeferry.nftables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.model.IpFamily;

import java.util.List;

/** Registers nftables mode with the agent core. */
public final class NftablesDataplaneProvider implements DataplaneProvider {

    @Override
    public String mode() {
        return "nftables";
    }

    /**
     * nft for the table, ip for the node's addresses, and what every mode runs besides: sysctl (the conntrack
     * settings at start-up) and conntrack (deleting stale UDP flows after endpoint changes).
     */
    @Override
    public List<String> requiredTools() {
        return List.of("nft", "ip", "sysctl", "conntrack");
    }

    /** Both: an instance programs the family its context names (merge glue between dual-agent and this backend). */
    @Override
    public java.util.Set<IpFamily> families() {
        return java.util.EnumSet.allOf(IpFamily.class);
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        return new NftablesDataplane(context);
    }
}
