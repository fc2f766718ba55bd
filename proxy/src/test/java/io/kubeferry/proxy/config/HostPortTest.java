package io.kubeferry.proxy.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HostPortTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0.0.0.0:10256|0.0.0.0|10256|0.0.0.0:10256",
            "localhost:0|localhost|0|localhost:0",
            "[::1]:10249|::1|10249|[::1]:10249",
            // Unbracketed IPv6: the port is after the last colon; written back with brackets.
            "::1:10249|::1|10249|[::1]:10249"})
    void parsesHostAndPortAndWritesIPv6InBrackets(String text, String host, int port, String written) {
        HostPort parsed = HostPort.parse(text);
        assertEquals(new HostPort(host, port), parsed);
        assertEquals(written, parsed.toString());
        assertEquals(parsed, HostPort.parse(parsed.toString()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "localhost|must be host:port, got \"localhost\"",
            ":10256|must be host:port, got \":10256\"",
            "[]:10256|must be host:port, got \"[]:10256\"",
            "198.18.0.1:|port must be 0-65535, got \"198.18.0.1:\"",
            "198.18.0.1:http|port must be 0-65535, got \"198.18.0.1:http\"",
            "198.18.0.1:65536|port must be 0-65535, got \"198.18.0.1:65536\""})
    void sayWhatIsWrongQuotingTheText(String text, String message) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> HostPort.parse(text)).getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0.0.0.0:10256|4321|0.0.0.0:4321",
            "198.18.0.1|4321|198.18.0.1:4321",
            "[::1]:10249|9999|[::1]:9999",
            "198.18.0.1:not-read|1|198.18.0.1:1"})
    void aPortFlagReplacesThePort(String text, int port, String written) {
        assertEquals(written, HostPort.withPort(text, port).toString());
    }

    @Test
    void aPortOutOfRangeQuotesTheAddress() {
        assertEquals("port must be 0-65535, got \"0.0.0.0:70000\"",
                assertThrows(IllegalArgumentException.class, () -> HostPort.withPort("0.0.0.0:10256", 70000)).getMessage());
    }
}
