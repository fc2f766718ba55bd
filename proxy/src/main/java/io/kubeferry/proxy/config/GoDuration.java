package io.kubeferry.proxy.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go's time.Duration text ("1s", "1m30s", "15m0s", "250ms", "0"), as KubeProxyConfiguration files carry it. */
public final class GoDuration {

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    private GoDuration() {
    }

    public static Duration parse(String text) {
        String s = text.strip();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        boolean negative = s.startsWith("-");
        if (negative || s.startsWith("+")) {
            s = s.substring(1);
        }
        Matcher m = PART.matcher(s);
        int at = 0;
        double nanos = 0;
        while (at < s.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("invalid duration \"" + text + "\" (expected e.g. 1s, 1m30s, 250ms)");
            }
            double value = Double.parseDouble(m.group(1));
            nanos += value * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            at = m.end();
        }
        if (at == 0) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\"");
        }
        Duration d = Duration.ofNanos(Math.round(nanos));
        return negative ? d.negated() : d;
    }

    /** Formats as Go does for whole seconds and above ("1m30s", "15m0s", "1s"; "250ms" below a second). */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        long millis = d.toMillis();
        if (millis < 1000) {
            return millis + "ms";
        }
        long h = d.toHours();
        long m = d.toMinutesPart();
        double s = d.toSecondsPart() + d.toMillisPart() / 1000.0;
        String sec = (s == Math.floor(s) ? String.valueOf((long) s) : String.valueOf(s)) + "s";
        if (h > 0) {
            return h + "h" + m + "m" + sec;
        }
        if (m > 0) {
            return m + "m" + sec;
        }
        return sec;
    }
}
