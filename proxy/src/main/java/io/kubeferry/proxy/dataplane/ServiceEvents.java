package io.kubeferry.proxy.dataplane;

import io.kubeferry.proxy.model.ServicePortName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a dataplane tells an operator about one Service: the agent turns each call into a log line and a
 * Kubernetes Event on the Service ({@code kubectl describe service} shows it). Calls must not block.
 */
public interface ServiceEvents {

    /** Logs only: for {@code render}, {@code cleanup} and unit tests, where no API server is at hand. */
    ServiceEvents LOG_ONLY = new ServiceEvents() {

        private static final Logger LOG = LoggerFactory.getLogger(ServiceEvents.class);

        @Override
        public void warning(ServicePortName service, String reason, String message) {
            LOG.warn("Service {}/{}: {}: {}", service.namespace(), service.name(), reason, message);
        }
    };

    /**
     * A Warning about a Service.
     *
     * @param service the Service port concerned
     * @param reason  a CamelCase reason, e.g. {@code SchedulerFallback}
     * @param message what happened and what kube-ferry did instead
     */
    void warning(ServicePortName service, String reason, String message);
}
