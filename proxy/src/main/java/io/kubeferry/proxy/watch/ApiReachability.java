package io.kubeferry.proxy.watch;

import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * What the HTTP client sees of the API server: each connection that fails and each answer. Fabric8's watch
 * manager re-opens a dropped watch by itself, retrying for ever (an informer's watcher always asks to
 * reconnect, so Config's watchReconnectLimit does not apply to it) and tells the informer nothing: while the
 * API server is down with watches open, the informers keep reporting that they watch. The HTTP client's
 * interceptors are the hook that sees those reconnects, so {@link ClusterWatch} learns of the outage here.
 * Install it with {@link #installOn} on the builder of the client the agent watches with.
 */
public final class ApiReachability implements Interceptor {

    static final String NAME = "kube-ferry-api-reachability";

    /** Told from the HTTP client's threads. */
    interface Listener {

        /** A request to {@code kind} (Service, EndpointSlice, Node, or the path) could not connect. */
        void connectionFailed(String kind, Throwable error);

        /** The API server answered (below 500: it serves requests again). */
        void answered();
    }

    private static final Listener NONE = new Listener() {

        @Override
        public void connectionFailed(String kind, Throwable error) {
        }

        @Override
        public void answered() {
        }
    };

    private volatile Listener listener = NONE;

    /** Adds this interceptor to the HTTP client of the Kubernetes client the builder builds. */
    public KubernetesClientBuilder installOn(KubernetesClientBuilder builder) {
        return builder.withHttpClientBuilderConsumer(http -> http.addOrReplaceInterceptor(NAME, this));
    }

    /** One listener at a time: the agent's one ClusterWatch (a restarted agent's replaces the last). */
    synchronized void listen(Listener next) {
        listener = next;
    }

    /** Stops telling {@code last}, unless another listener has replaced it already. */
    synchronized void stopListening(Listener last) {
        if (listener == last) {
            listener = NONE;
        }
    }

    @Override
    public void afterConnectionFailure(HttpRequest request, Throwable failure) {
        listener.connectionFailed(kindOf(request.uri().getPath()), failure);
    }

    @Override
    public void after(HttpRequest request, HttpResponse<?> response, AsyncBody.Consumer<List<ByteBuffer>> consumer) {
        if (response.code() < 500) {
            listener.answered();
        }
    }

    /** ".../services" is Service; ".../endpointslices" EndpointSlice; ".../nodes" Node (and so on); anything else its path. */
    static String kindOf(String path) {
        String last = path.substring(path.lastIndexOf('/') + 1);
        return switch (last) {
            case "services" -> "Service";
            case "endpointslices" -> "EndpointSlice";
            case "nodes" -> "Node";
            case "servicecidrs" -> "ServiceCIDR";
            default -> path;
        };
    }
}
