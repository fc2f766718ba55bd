package io.kubeferry.proxy.state;

/**
 * One object (or part of one) that kube-ferry did not program.
 *
 * @param kind      e.g. {@code Service}
 * @param namespace the object's namespace; "" for a cluster-scoped kind
 * @param name      the object's name (may be invalid: that can be the problem)
 * @param problem   why
 */
public record SkippedObject(String kind, String namespace, String name, ObjectProblem problem) {

    /** One line for logs and {@code render}'s stderr; names that are not plain are quoted and escaped. */
    public String describe() {
        // Cluster-scoped kinds (Node, ServiceCIDR) have no namespace to show.
        String where = namespace == null || namespace.isEmpty() ? "" : SkippedObjects.display(namespace) + "/";
        return kind + " " + where + SkippedObjects.display(name)
                + (problem.whole() ? " skipped: " : ": ") + problem.message() + " (" + problem.reason() + ")";
    }
}
