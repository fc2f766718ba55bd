package io.kubeferry.proxy.config;

/** A configuration error; the message names the field, as in {@code iptables.masqueradeBit: must be within [0, 31], got 40}. */
public final class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
