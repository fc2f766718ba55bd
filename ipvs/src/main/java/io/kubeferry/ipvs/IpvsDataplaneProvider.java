package io.kubeferry.ipvs;

import io.kubeferry.proxy.config.ConfigException;
import io.kubeferry.proxy.config.KubeProxyConfigurationLoader;
import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.model.IpFamily;

import java.util.List;

/** Registers IPVS mode ({@code mode: ipvs}). */
public final class IpvsDataplaneProvider implements DataplaneProvider {

    @Override
    public String mode() {
        return "ipvs";
    }

    /**
     * As upstream's validation, which checks the ipvs section only in IPVS mode: excludeCIDRs must be CIDRs, the
     * timeouts 0 or more, and a scheduler name no kernel has fails start-up instead of every sync.
     */
    @Override
    public void validate(ProxyConfig config) throws ConfigException {
        ProxyConfig.Ipvs ipvs = config.ipvs();
        for (String cidr : ipvs.excludeCIDRs()) {
            KubeProxyConfigurationLoader.cidr("ipvs.excludeCIDRs", cidr);
        }
        KubeProxyConfigurationLoader.nonNegative("ipvs.tcpTimeout", ipvs.tcpTimeout());
        KubeProxyConfigurationLoader.nonNegative("ipvs.tcpFinTimeout", ipvs.tcpFinTimeout());
        KubeProxyConfigurationLoader.nonNegative("ipvs.udpTimeout", ipvs.udpTimeout());
        String scheduler = ipvs.scheduler().trim();
        if (!scheduler.isEmpty() && !IpvsSchedulers.ALL.contains(scheduler)) {
            throw new ConfigException("ipvs.scheduler: unknown scheduler \"" + scheduler + "\"; known: "
                    + String.join(", ", IpvsSchedulers.ALL) + " (empty means rr)");
        }
    }

    @Override
    public List<String> requiredTools() {
        return List.of("ipvsadm", "ipset", "iptables-restore", "iptables-save", "iptables", "ip", "sysctl", "modprobe", "conntrack");
    }

    /** Both: an instance per family, each programming only its own family's part of the shared IPVS state. */
    @Override
    public java.util.Set<IpFamily> families() {
        return java.util.EnumSet.allOf(IpFamily.class);
    }

    /** IPv6's rules go through ip6tables; IPVS, ipset and ip serve both families. */
    @Override
    public List<String> requiredTools(IpFamily family) {
        if (family == IpFamily.IPv4) {
            return requiredTools();
        }
        return requiredTools().stream().map(t -> t.startsWith("iptables") ? "ip6" + t.substring(2) : t).toList();
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        return new IpvsDataplane(context);
    }
}
