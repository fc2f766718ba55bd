package io.kubeferry.proxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import io.kubeferry.proxy.config.ProxyConfig;
import org.slf4j.LoggerFactory;

/**
 * Applies the logging section (--v, --logging-format, or the file's logging.*) to logback, before anything
 * else logs. The levels follow klog's verbosity as operators use it: 0-1 INFO; 2-3 DEBUG for kube-ferry's own
 * loggers but not the per-command tool lines; 4-5 DEBUG everywhere in kube-ferry and INFO for the libraries;
 * 6 and up TRACE. At 0-1 an explicit KUBE_FERRY_LOG_LEVEL (LogbackDefaults reads it) is left in force.
 */
final class LogSettings {

    static final String APPENDER = "STDERR";

    private LogSettings() {
    }

    static void apply(ProxyConfig.Logging logging) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another SLF4J binding (a test or an embedding application) owns the configuration
        }
        int v = logging.verbosity();
        if (v >= 2 || System.getenv("KUBE_FERRY_LOG_LEVEL") == null) {
            Level own = v >= 6 ? Level.TRACE : v >= 2 ? Level.DEBUG : Level.INFO;
            context.getLogger("io.kubeferry").setLevel(own);
            context.getLogger("io.kubeferry.proxy.exec").setLevel(v >= 4 ? own : Level.INFO);
            Level libraries = v >= 6 ? Level.DEBUG : v >= 4 ? Level.INFO : Level.WARN;
            LogbackDefaults.LIBRARIES.forEach(library -> context.getLogger(library).setLevel(libraries));
            if (v >= 4) {
                // Fabric8's retry loggers are held at ERROR (LogbackDefaults) so an outage is two lines; an
                // operator who asks for debug output gets their retries and stack traces too.
                LogbackDefaults.RETRY_LOGGERS.forEach(retries -> context.getLogger(retries).setLevel(libraries));
            }
        }
        if (logging.format().equals("json")) {
            useJson(context);
        }
    }

    /** Swaps the stderr appender's encoder for logback's own JSON encoder: one JSON object per line. */
    private static void useJson(LoggerContext context) {
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.setWithSequenceNumber(false);
        encoder.setWithNanoseconds(false);
        encoder.setWithContext(false);
        encoder.setWithArguments(false);
        encoder.setWithMessage(false);
        encoder.setWithFormattedMessage(true);
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = LogbackDefaults.stderr(context, encoder);
        var previous = root.getAppender(APPENDER);
        root.addAppender(appender);
        if (previous != null && previous != appender) {
            root.detachAppender(previous);
            previous.stop();
        }
    }
}
