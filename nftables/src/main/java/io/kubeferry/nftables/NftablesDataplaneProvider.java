package io.kubeferry.nftables;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;

import java.util.List;

/** Registers nftables mode with the agent core. */
public final class NftablesDataplaneProvider implements DataplaneProvider {

    @Override
    public String mode() {
        return "nftables";
    }

    @Override
    public List<String> requiredTools() {
        return List.of("nft", "ip");
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        return new NftablesDataplane(context);
    }
}
