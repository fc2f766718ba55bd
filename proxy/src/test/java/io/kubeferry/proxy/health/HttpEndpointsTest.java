package io.kubeferry.proxy.health;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HttpEndpointsTest {

    /**
     * A client that offers the cleartext HTTP/2 upgrade (the JDK's default client does) gets a plain
     * HTTP/1.1 answer on both ports, as from kube-proxy's Go servers.
     */
    @Test
    void bothPortsAnswerHttp11ToAClientOfferingH2c() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            HttpEndpoints http = new HttpEndpoints(vertx, new ProxyHealth(Duration.ofMinutes(1), () -> 0L),
                    new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                    new HttpEndpoints.MetricsPaths("iptables", () -> "{}", () -> "{}"));
            http.start("127.0.0.1:0", "127.0.0.1:0").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            List<Integer> ports = http.ports();
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            for (String path : List.of(ports.get(0) + "/livez", ports.get(1) + "/proxyMode")) {
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + path))
                        .timeout(Duration.ofSeconds(10)).build();
                HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode(), path);
                assertEquals(HttpClient.Version.HTTP_1_1, response.version(), path);
            }
            http.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
