package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;

import java.util.List;

/** Registers IPVS mode ({@code mode: ipvs}). */
public final class IpvsDataplaneProvider implements DataplaneProvider {

    @Override
    public String mode() {
        return "ipvs";
    }

    /** As upstream's validation: a scheduler name no kernel has fails start-up instead of every sync. */
    @Override
    public void validate(ProxyConfig config) throws ConfigException {
        String scheduler = config.ipvs().scheduler().trim();
        if (!scheduler.isEmpty() && !IpvsSchedulers.ALL.contains(scheduler)) {
            throw new ConfigException("ipvs.scheduler: unknown scheduler \"" + scheduler + "\"; known: "
                    + String.join(", ", IpvsSchedulers.ALL) + " (empty means rr)");
        }
    }

    @Override
    public List<String> requiredTools() {
        return List.of("ipvsadm", "ipset", "iptables-restore", "iptables-save", "iptables", "ip", "sysctl", "modprobe", "conntrack");
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        return new IpvsDataplane(context);
    }
}
