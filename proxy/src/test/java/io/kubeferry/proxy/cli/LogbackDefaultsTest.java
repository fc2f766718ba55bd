package io.kubeferry.proxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** logback's own start-up finds LogbackDefaults (META-INF/services) and never reaches its XML configurator. */
class LogbackDefaultsTest {

    @Test
    void logbacksAutoConfigurationUsesTheDefaultsInCode() throws Exception {
        LoggerContext context = new LoggerContext();
        new ContextInitializer(context).autoConfig();

        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertEquals(Level.WARN, root.getLevel());
        ConsoleAppender<?> stderr = assertInstanceOf(ConsoleAppender.class, root.getAppender(LogSettings.APPENDER));
        assertEquals("System.err", stderr.getTarget());
        assertEquals(LogbackDefaults.PATTERN, assertInstanceOf(PatternLayoutEncoder.class, stderr.getEncoder()).getPattern());
        assertEquals(Level.ERROR, context.getLogger("io.fabric8.kubernetes.client.informers.impl.cache.Reflector").getLevel());
        assertEquals(Level.WARN, context.getLogger("io.netty").getLevel());
        assertEquals(System.getenv("KUBE_FERRY_LOG_LEVEL") == null ? Level.INFO : Level.toLevel(System.getenv("KUBE_FERRY_LOG_LEVEL")),
                context.getLogger("io.kubeferry").getLevel());
        // Joran (the XML configurator) was never asked: its configurator class is not even loaded by this test's loader.
        assertFalse(context.getCopyOfListenerList().stream().anyMatch(l -> l.getClass().getName().contains("joran")));
        context.stop();
    }
}
