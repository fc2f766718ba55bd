package io.kubeferry.proxy.watch;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An API outage is two log lines at INFO/WARN however many retries it takes; the retries go to DEBUG. */
class ApiOutageTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger(ApiOutage.class);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private Level before;

    @BeforeEach
    void attach() {
        before = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        // The test reads the events; the console needs no copy of the DEBUG stack traces.
        logger.setAdditive(false);
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
        logger.setAdditive(true);
        logger.setLevel(before);
    }

    private List<ILoggingEvent> atInfoOrAbove() {
        return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO)).toList();
    }

    @Test
    void manyFailedRetriesAreOneWarnAndOneInfo() {
        ApiOutage outage = new ApiOutage(Duration.ofSeconds(10));
        Throwable refused = new CompletionException(new ConnectException("Connection refused: /127.0.0.1:1"));
        long t = 0;
        for (int i = 0; i < 30; i++) {
            for (String kind : List.of("Service", "EndpointSlice", "Node")) {
                outage.failed(kind, refused, "backoff 1000 ms doubling to 32 s", t);
            }
            outage.watching(List.of("Service", "EndpointSlice", "Node"), t);
            t += Duration.ofSeconds(20).toNanos();
        }
        assertTrue(outage.down());
        outage.watching(List.of(), t);
        assertFalse(outage.down());
        List<ILoggingEvent> shown = atInfoOrAbove();
        assertEquals(2, shown.size(), "one WARN when it goes, one INFO when it is back: " + shown);
        assertEquals(Level.WARN, shown.get(0).getLevel());
        assertTrue(shown.get(0).getFormattedMessage().contains("ConnectException: Connection refused: /127.0.0.1:1"),
                shown.get(0).getFormattedMessage());
        assertTrue(shown.get(0).getFormattedMessage().contains("backoff 1000 ms"), "names the backoff");
        assertEquals(Level.INFO, shown.get(1).getLevel());
        assertTrue(shown.get(1).getFormattedMessage().contains("90 failed attempts"), shown.get(1).getFormattedMessage());
        assertTrue(shown.stream().allMatch(e -> e.getThrowableProxy() == null), "no stack trace above DEBUG");
        assertTrue(appender.list.stream().anyMatch(e -> e.getLevel() == Level.DEBUG && e.getThrowableProxy() != null),
                "the stack trace is kept at DEBUG");
    }

    @Test
    void aWatchThatComesBackWithinTheGraceIsNotAnOutage() {
        ApiOutage outage = new ApiOutage(Duration.ofSeconds(10));
        outage.watching(List.of("Service"), 0);
        outage.watching(List.of("Service"), Duration.ofSeconds(5).toNanos());
        outage.watching(List.of(), Duration.ofSeconds(6).toNanos());
        assertFalse(outage.down());
        assertEquals(List.of(), atInfoOrAbove());
    }

    @Test
    void aWatchGoneLongerThanTheGraceIsOneWarn() {
        ApiOutage outage = new ApiOutage(Duration.ofSeconds(10));
        for (int s = 0; s <= 60; s++) {
            outage.watching(List.of("EndpointSlice"), Duration.ofSeconds(s).toNanos());
        }
        assertTrue(outage.down());
        outage.watching(List.of(), Duration.ofSeconds(61).toNanos());
        List<ILoggingEvent> shown = atInfoOrAbove();
        assertEquals(2, shown.size(), shown.toString());
        assertTrue(shown.get(0).getFormattedMessage().contains("EndpointSlice not watching"), shown.get(0).getFormattedMessage());
        assertTrue(shown.get(1).getFormattedMessage().contains("after 61 s"), shown.get(1).getFormattedMessage());
    }

    @Test
    void refusedReconnectsOfOpenWatchesAreOneWarnAndTheInfoWaitsForAnAnswer() {
        // Fabric8 re-opens the watches by itself: the informers report watching all through the outage.
        ApiOutage outage = new ApiOutage(Duration.ofSeconds(10));
        List<String> none = List.of();
        outage.watching(none, 0);
        Throwable refused = new ConnectException("Connection refused: /127.0.0.1:6443");
        long t = Duration.ofSeconds(1).toNanos();
        for (int i = 0; i < 20; i++) {
            outage.connectionFailed(i % 2 == 0 ? "Service" : "EndpointSlice", refused, "backoff 1000 ms doubling to 32 s", t);
            outage.watching(none, t);
            t += Duration.ofSeconds(1).toNanos();
        }
        assertTrue(outage.down(), "watching informers do not end an outage the API server has not answered in");
        outage.answered();
        outage.watching(none, t);
        assertFalse(outage.down());
        List<ILoggingEvent> shown = atInfoOrAbove();
        assertEquals(2, shown.size(), shown.toString());
        assertEquals(Level.WARN, shown.get(0).getLevel());
        assertTrue(shown.get(0).getFormattedMessage().contains("Service list/watch failed: ConnectException: Connection refused"),
                shown.get(0).getFormattedMessage());
        assertTrue(shown.get(0).getFormattedMessage().contains("backoff 1000 ms doubling to 32 s"), "names the backoff");
        assertEquals(Level.INFO, shown.get(1).getLevel());
        assertTrue(shown.get(1).getFormattedMessage().contains("after 20 s (20 failed attempts)"), shown.get(1).getFormattedMessage());
        assertTrue(shown.stream().allMatch(e -> e.getThrowableProxy() == null), "no stack trace above DEBUG");
    }

    @Test
    void anAnswerAloneDoesNotEndAnOutageWhileAnInformerIsNotWatching() {
        ApiOutage outage = new ApiOutage(Duration.ofSeconds(10));
        outage.connectionFailed("Node", new ConnectException("Connection refused"), "backoff", 0);
        outage.answered();
        outage.watching(List.of("Node"), 1);
        assertTrue(outage.down());
        outage.watching(List.of(), 2);
        assertFalse(outage.down());
    }

    @Test
    void requestPathsNameTheirKind() {
        assertEquals("Service", ApiReachability.kindOf("/api/v1/services"));
        assertEquals("EndpointSlice", ApiReachability.kindOf("/apis/discovery.k8s.io/v1/endpointslices"));
        assertEquals("Node", ApiReachability.kindOf("/api/v1/nodes"));
        assertEquals("/api/v1/namespaces/default/events", ApiReachability.kindOf("/api/v1/namespaces/default/events"));
    }

    @Test
    void onlyAddressesAndTopologyLabelsTouchEveryService() {
        Node base = new NodeBuilder().withNewMetadata().withName("node-a").addToLabels("topology.kubernetes.io/zone", "z1")
                .addToLabels("team", "a").withResourceVersion("1").endMetadata()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress("198.18.0.1").endAddress().endStatus().build();
        Node heartbeat = new NodeBuilder(base).editMetadata().withResourceVersion("2").addToLabels("team", "b").endMetadata().build();
        Node moved = new NodeBuilder(base).editMetadata().addToLabels("topology.kubernetes.io/zone", "z2").endMetadata().build();
        Node readdressed = new NodeBuilder(base).editStatus().editFirstAddress().withAddress("198.18.0.2").endAddress().endStatus().build();
        assertFalse(ClusterWatch.touchesEveryService(base, heartbeat), "other labels and versions do not");
        assertTrue(ClusterWatch.touchesEveryService(base, moved), "a zone change does");
        assertTrue(ClusterWatch.touchesEveryService(base, readdressed), "an address change does");
    }
}
