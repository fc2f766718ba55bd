package io.kubeferry.proxy.dataplane;

/** Applying a program to the kernel failed; the sync stage backs off and retries with a full sync. */
public class DataplaneException extends Exception {

    private static final long serialVersionUID = 1L;

    public DataplaneException(String message, Throwable cause) {
        super(message, cause);
    }

    public DataplaneException(String message) {
        super(message);
    }
}
