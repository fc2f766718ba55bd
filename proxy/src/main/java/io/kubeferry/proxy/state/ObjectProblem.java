package io.kubeferry.proxy.state;

import java.util.Objects;

/**
 * Why kube-ferry does not program an object, or one part of it.
 *
 * @param reason  a short stable code (the {@code reason} label of {@code kubeferry_objects_skipped_total}),
 *                e.g. {@code invalid-cluster-ip}
 * @param message what is wrong, naming the field and (escaped) value
 * @param whole   true when the whole object is skipped, false when only the named part is dropped
 */
public record ObjectProblem(String reason, String message, boolean whole) {

    public ObjectProblem {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
    }

    /** The whole object is skipped. */
    public static ObjectProblem skip(String reason, String message) {
        return new ObjectProblem(reason, message, true);
    }

    /** Only the part the message names is dropped; the rest of the object is programmed. */
    public static ObjectProblem drop(String reason, String message) {
        return new ObjectProblem(reason, message, false);
    }
}
