package io.kubeferry.nftables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.model.IpFamily;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

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

    /** Both: an instance programs its context's family's table (ip or ip6 kube-proxy), with the same tools. */
    @Override
    public Set<IpFamily> families() {
        return EnumSet.of(IpFamily.IPv4, IpFamily.IPv6);
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        return new NftablesDataplane(context);
    }
}
