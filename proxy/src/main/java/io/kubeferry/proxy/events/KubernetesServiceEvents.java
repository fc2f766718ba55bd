package io.kubeferry.proxy.events;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.kubeferry.proxy.dataplane.ServiceEvents;
import io.kubeferry.proxy.model.ServicePortName;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Locale;
import java.util.UUID;

/**
 * Service warnings as core/v1 Events (what {@code kubectl describe service} lists), written from a worker
 * so a slow API server never holds up a sync. Needs only create on events (the ClusterRole grants it).
 */
public final class KubernetesServiceEvents implements ServiceEvents {

    private static final Logger LOG = LoggerFactory.getLogger(KubernetesServiceEvents.class);

    private final KubernetesClient client;
    private final Vertx vertx;
    private final String node;

    public KubernetesServiceEvents(KubernetesClient client, Vertx vertx, String node) {
        this.client = client;
        this.vertx = vertx;
        this.node = node;
    }

    @Override
    public void warning(ServicePortName service, String reason, String message) {
        ServiceEvents.LOG_ONLY.warning(service, reason, message);
        record(service.namespace(), service.name(), reason, message);
    }

    /** The Event alone, for a caller that has logged the warning itself (the state's skipped-object reports). */
    public void record(String namespace, String service, String reason, String message) {
        Event event = event(namespace, service, reason, message, node, Instant.now());
        vertx.executeBlocking(() -> client.v1().events().inNamespace(namespace).resource(event).create(), false)
                .onFailure(
                        e -> LOG.warn("could not record the {} event for Service {}/{}: {}", reason, namespace, service, e.getMessage()));
    }

    static Event event(String namespace, String service, String reason, String message, String node, Instant now) {
        String time = now.toString();
        return new EventBuilder()
                .withNewMetadata()
                .withName(service + "." + UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT))
                .withNamespace(namespace)
                .endMetadata()
                .withNewInvolvedObject().withApiVersion("v1").withKind("Service").withNamespace(namespace)
                .withName(service).endInvolvedObject()
                .withType("Warning").withReason(reason).withMessage(message)
                .withNewSource().withComponent("kube-ferry").withHost(node).endSource()
                .withReportingComponent("kube-ferry").withReportingInstance(node)
                .withFirstTimestamp(time).withLastTimestamp(time).withCount(1)
                .build();
    }
}
