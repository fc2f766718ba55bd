package io.kubeferry.proxy.model;

import java.util.Locale;

/** The L4 protocols a Service port can carry. */
public enum Protocol {

    TCP, UDP, SCTP;

    /** Lower-case name as used by iptables matches and upstream's chain-name hash input. */
    public String lower() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a Kubernetes protocol string; Kubernetes defaults an absent protocol to TCP. */
    public static Protocol parse(String value) {
        if (value == null || value.isEmpty()) {
            return TCP;
        }
        return Protocol.valueOf(value.toUpperCase(Locale.ROOT));
    }
}
