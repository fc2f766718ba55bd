package io.kubeferry.ipvs;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;

/** Registers IPVS mode ({@code mode: ipvs}). */
public final class IpvsDataplaneProvider implements DataplaneProvider {

    @Override
    public String mode() {
        return "ipvs";
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        return new IpvsDataplane(context);
    }
}
