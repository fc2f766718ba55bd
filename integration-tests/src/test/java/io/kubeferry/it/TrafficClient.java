package io.kubeferry.it;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Sends real traffic from inside a client network namespace and prints one line per attempt:
 * the answering endpoint's name, or REFUSED, TIMEOUT, ERROR. Driven over stdin so one JVM serves many
 * requests: each input line is a command.
 * <pre>
 *   tcp HOST PORT                       one connection
 *   tcpfrom SOURCE HOST PORT            one connection from SOURCE, one of the namespace's addresses
 *   udp HOST PORT SRCPORT               one datagram from a fixed source port (same conntrack flow each time)
 *   loop HOST PORT MILLIS GAP_MILLIS    connections for MILLIS, one every GAP_MILLIS; prints "ok N failed M"
 *   until HOST PORT NAME MILLIS         connects back to back until NAME answers; prints "reached" or "timeout"
 *   rate HOST PORT MAX MILLIS           new connections back to back (each reads the answer and closes) until MAX
 *                                       were made or MILLIS passed; prints "rate ok N failed M millis T" (see ConnectionRate)
 *   open ID HOST PORT                   a long-lived connection kept under ID; prints the endpoint's name
 *   probe ID MILLIS                     sends one byte on connection ID and waits up to MILLIS for what comes back, then
 *                                       closes it: CLOSED (the endpoint that accepted it closed in order: the flow
 *                                       still reaches it), RESET (the node's kernel sent the packet to an endpoint that
 *                                       never knew the connection), TIMEOUT (nothing came back), or ERROR
 * </pre>
 */
public final class TrafficClient {

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("ready");
        System.out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split("\\s+");
            String result = switch (f[0]) {
                case "tcp" -> tcp(f[1], Integer.parseInt(f[2]));
                case "tcpfrom" -> tcp(f[1], f[2], Integer.parseInt(f[3]), false);
                case "udp" -> udp(f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]));
                case "loop" -> loop(f[1], Integer.parseInt(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]));
                case "until" -> until(f[1], Integer.parseInt(f[2]), f[3], Long.parseLong(f[4]));
                case "rate" -> rate(f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]), Long.parseLong(f[4]));
                case "open" -> open(f[1], f[2], Integer.parseInt(f[3]));
                case "probe" -> probe(f[1], Integer.parseInt(f[2]));
                default -> "ERROR unknown command " + f[0];
            };
            System.out.println(result);
            System.out.flush();
        }
    }

    /**
     * A SYN and its one retransmission (at 1 s) unanswered: the dataplane lost the packets, so a connect time-out
     * stays short enough to show a gap of a second.
     */
    private static final int CONNECT_TIMEOUT_MS = 2000;
    /**
     * Once connected the dataplane has done its part (the SYN-ACK came back through the DNAT); the name then
     * only waits for the pod's JVM, which a loaded 2-core machine can stall for seconds. Reported apart.
     */
    private static final int READ_TIMEOUT_MS = 10_000;

    static String tcp(String host, int port) {
        return tcp(host, port, false);
    }

    /**
     * One connection; with {@code reset} it ends with a RST (SO_LINGER 0) instead of a FIN, so a load loop leaves
     * no TIME_WAIT sockets behind (thousands would exhaust the client's ephemeral ports towards one address) and
     * the node's conntrack entries close at once instead of lingering for two minutes.
     */
    static String tcp(String host, int port, boolean reset) {
        return tcp(null, host, port, reset);
    }

    /** One connection from {@code source} (null: the route's choice). */
    static String tcp(String source, String host, int port, boolean reset) {
        try (Socket socket = new Socket()) {
            if (source != null) {
                socket.bind(new InetSocketAddress(source, 0));
            }
            if (reset) {
                socket.setSoLinger(true, 0);
            }
            socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String name;
            try {
                name = reader.readLine();
            } catch (SocketTimeoutException e) {
                return "TIMEOUT reading the answer";
            }
            return name == null ? "ERROR closed" : name;
        } catch (ConnectException e) {
            return "REFUSED";
        } catch (SocketTimeoutException e) {
            return "TIMEOUT";
        } catch (Exception e) {
            return "ERROR " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    static String udp(String host, int port, int sourcePort) {
        try (DatagramSocket socket = new DatagramSocket(null)) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(sourcePort));
            socket.setSoTimeout(1000);
            byte[] request = "ping".getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(request, request.length, new InetSocketAddress(host, port)));
            byte[] buffer = new byte[1500];
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            socket.receive(reply);
            return new String(buffer, 0, reply.getLength(), StandardCharsets.UTF_8).trim();
        } catch (SocketTimeoutException e) {
            return "TIMEOUT";
        } catch (Exception e) {
            return "ERROR " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /** The connections {@code open} keeps, by the test's id (this JVM serves one test at a time). */
    private static final java.util.Map<String, Socket> OPEN = new java.util.HashMap<>();

    static String open(String id, String host, int port) {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            // The echo server's name, one line: read byte by byte so nothing after it is buffered here.
            StringBuilder name = new StringBuilder();
            int c;
            while ((c = socket.getInputStream().read()) != -1 && c != '\n') {
                name.append((char) c);
            }
            OPEN.put(id, socket);
            return name.toString();
        } catch (Exception e) {
            try {
                socket.close();
            } catch (java.io.IOException ignored) {
                // the failure is what is reported
            }
            return "ERROR " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    static String probe(String id, int millis) {
        Socket socket = OPEN.remove(id);
        if (socket == null) {
            return "ERROR no connection " + id;
        }
        try (socket) {
            socket.setSoTimeout(millis);
            socket.getOutputStream().write('x');
            socket.getOutputStream().flush();
            int read = socket.getInputStream().read();
            return read == -1 ? "CLOSED" : "DATA " + read;
        } catch (SocketTimeoutException e) {
            return "TIMEOUT";
        } catch (java.net.SocketException e) {
            return e.getMessage() != null && e.getMessage().contains("reset") ? "RESET" : "ERROR " + e.getMessage();
        } catch (Exception e) {
            return "ERROR " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    static String until(String host, int port, String expected, long millis) {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            // Reset, not closed: a benchmark's many polls towards one Service would otherwise fill the ephemeral
            // ports with TIME_WAIT sockets (seconds of polling per sample, thousands of connections a second).
            if (tcp(host, port, true).equals(expected)) {
                return "reached";
            }
        }
        return "timeout";
    }

    /**
     * Connection rate: one connection at a time, each fully set up, answered and closed before the next, so the
     * rate is bounded by the cost of a new connection's path (the first packet walks the nat rules; the rest
     * follow conntrack). Bounded twice: at most {@code max} connections and at most {@code millis}.
     */
    static String rate(String host, int port, int max, long millis) {
        int ok = 0;
        int failed = 0;
        String firstFailure = "";
        long start = System.nanoTime();
        long end = start + millis * 1_000_000;
        while (ok + failed < max && System.nanoTime() < end) {
            String answer = tcp(host, port, true);
            if (answer.startsWith("REFUSED") || answer.startsWith("TIMEOUT") || answer.startsWith("ERROR")) {
                if (failed++ == 0) {
                    firstFailure = " first " + answer;
                }
            } else {
                ok++;
            }
        }
        return "rate ok " + ok + " failed " + failed + " millis " + (System.nanoTime() - start) / 1_000_000 + firstFailure;
    }

    static String loop(String host, int port, long millis, long gap) throws InterruptedException {
        int ok = 0;
        int failed = 0;
        StringBuilder failures = new StringBuilder();
        long start = System.currentTimeMillis();
        long end = start + millis;
        while (System.currentTimeMillis() < end) {
            long attempt = System.currentTimeMillis();
            String answer = tcp(host, port);
            if (answer.startsWith("REFUSED") || answer.startsWith("TIMEOUT") || answer.startsWith("ERROR")) {
                failed++;
                if (failures.length() < 400) {
                    // When it began and how long it took, to line a failure up with the agent's log.
                    failures.append(" [").append(answer).append(" at +").append(attempt - start).append(" ms, took ")
                            .append(System.currentTimeMillis() - attempt).append(" ms]");
                }
            } else {
                ok++;
            }
            Thread.sleep(gap);
        }
        return "ok " + ok + " failed " + failed + failures;
    }
}
