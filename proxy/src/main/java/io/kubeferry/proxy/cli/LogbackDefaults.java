package io.kubeferry.proxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.util.List;

/**
 * kube-ferry's logging set-up, in code rather than a logback.xml: logback's XML configurator (Joran, a SAX parser
 * and its model processors, some 500 classes) cost start-up time and class metadata that the agent keeps for
 * its lifetime, for six lines of settings. Found by logback through {@code META-INF/services} before it looks
 * for an XML file; an operator's own {@code -Dlogback.configurationFile} still wins (Joran then reads it).
 * {@link LogSettings} adjusts these levels afterwards from --v and the config file.
 */
public final class LogbackDefaults extends ContextAwareBase implements Configurator {

    /** One line per event on stderr: what container runtimes and journald collect. */
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX} %-5level [%thread] %logger{24} - %msg%n";

    /** The libraries' loggers, held at WARN. */
    static final List<String> LIBRARIES = List.of("io.fabric8", "io.vertx", "io.netty");

    /**
     * Fabric8 logs every informer retry with a stack trace; ClusterWatch reports an outage in two lines instead, so
     * these two are held at ERROR (LogSettings lets them through again at --v=4 and up).
     */
    static final List<String> RETRY_LOGGERS = List.of("io.fabric8.kubernetes.client.informers.impl.cache.Reflector",
            "io.fabric8.kubernetes.client.dsl.internal.AbstractWatchManager");

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        LIBRARIES.forEach(name -> context.getLogger(name).setLevel(Level.WARN));
        RETRY_LOGGERS.forEach(name -> context.getLogger(name).setLevel(Level.ERROR));
        context.getLogger("io.kubeferry").setLevel(Level.toLevel(System.getenv("KUBE_FERRY_LOG_LEVEL"), Level.INFO));
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(stderr(context, encoder));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** The one stderr appender (named {@link LogSettings#APPENDER}), started, writing with {@code encoder}. */
    static ConsoleAppender<ILoggingEvent> stderr(LoggerContext context, Encoder<ILoggingEvent> encoder) {
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(LogSettings.APPENDER);
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        return appender;
    }
}
