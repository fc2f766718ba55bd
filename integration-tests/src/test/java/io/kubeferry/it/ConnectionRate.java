package io.kubeferry.it;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What one bounded connection-rate loop of {@link TrafficClient} measured. */
public record ConnectionRate(int ok, int failed, long millis, String firstFailure) {

    private static final Pattern ANSWER = Pattern.compile("rate ok (\\d+) failed (\\d+) millis (\\d+)(?: first (.*))?");

    /** Parses the client's "rate ok N failed M millis T [first REASON]" line. */
    public static ConnectionRate parse(String answer) {
        Matcher m = ANSWER.matcher(answer.trim());
        if (!m.matches()) {
            throw new IllegalStateException("not a rate answer: " + answer);
        }
        return new ConnectionRate(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Long.parseLong(m.group(3)),
                m.group(4) == null ? "" : m.group(4));
    }

    /** Answered connections per second of the loop's wall time. */
    public double perSecond() {
        return millis == 0 ? 0 : ok * 1000.0 / millis;
    }
}
