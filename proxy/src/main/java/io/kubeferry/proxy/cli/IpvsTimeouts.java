package io.kubeferry.proxy.cli;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * ipvs.tcpTimeout, tcpFinTimeout and udpTimeout, set once at start as kube-proxy's IPVS proxier sets them
 * (only when one is non-zero; 0 leaves that timeout as it is, which {@code ipvsadm --set} also means by 0).
 * A failure is logged and start-up goes on, as upstream.
 */
final class IpvsTimeouts {

    private static final Logger LOG = LoggerFactory.getLogger(IpvsTimeouts.class);

    private IpvsTimeouts() {
    }

    /** The ipvsadm command the settings ask for, if any. */
    static Optional<ToolCommand> command(ProxyConfig.Ipvs ipvs) {
        long tcp = ipvs.tcpTimeout().getSeconds();
        long fin = ipvs.tcpFinTimeout().getSeconds();
        long udp = ipvs.udpTimeout().getSeconds();
        if (tcp <= 0 && fin <= 0 && udp <= 0) {
            return Optional.empty();
        }
        return Optional.of(ToolCommand.of("ipvsadm", "--set", Long.toString(tcp), Long.toString(fin), Long.toString(udp)));
    }

    static void apply(ToolRunner tools, ProxyConfig.Ipvs ipvs) {
        command(ipvs).ifPresent(c -> {
            try {
                tools.run(c);
                LOG.info("set IPVS timeouts: {}", c.display());
            } catch (ToolException e) {
                LOG.warn("cannot set IPVS timeouts ({}): {}", c.display(), e.getMessage());
            }
        });
    }
}
