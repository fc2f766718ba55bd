package io.kubeferry.proxy.config;

/** A configuration error; the message names the field, as in {@code iptables.masqueradeBit: must be within [0, 31], got 40}. */
public final class ConfigException extends Exception {

    public ConfigException(String message) {
        super(message);
    }
}
