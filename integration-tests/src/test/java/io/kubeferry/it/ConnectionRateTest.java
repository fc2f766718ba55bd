package io.kubeferry.it;

import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bounded connection-rate loop against a loopback server: it stops at its count, and parses back. */
class ConnectionRateTest {

    @Test
    void stopsAtTheCountAndReportsTheRate() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                        out.write("pod-a\n".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        s.getInputStream().read();
                    } catch (Exception e) {
                        // the client reset the connection, or the server closed: next one
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            ConnectionRate rate = ConnectionRate.parse(TrafficClient.rate("127.0.0.1", server.getLocalPort(), 200, 20_000));
            assertEquals(200, rate.ok(), rate.toString());
            assertEquals(0, rate.failed(), rate.toString());
            assertTrue(rate.perSecond() > 0, rate.toString());
        }
    }

    @Test
    void aRefusedPortCountsAsFailedAndNamesTheFirstFailure() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        ConnectionRate rate = ConnectionRate.parse(TrafficClient.rate("127.0.0.1", closed, 3, 10_000));
        assertEquals(new ConnectionRate(0, 3, rate.millis(), "REFUSED"), rate);
    }
}
