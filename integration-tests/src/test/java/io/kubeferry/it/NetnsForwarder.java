package io.kubeferry.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes a TCP port on a network namespace's own 127.0.0.1 reachable from this JVM (root namespace) at
 * {@code 127.0.0.1:}{@link #port()}, without giving the root namespace any interface, route or rule.
 * <p>
 * Two {@code socat} processes joined by a unix socket in a private temp directory:
 * <pre>
 *   root ns:  socat TCP-LISTEN:127.0.0.1:port,fork  UNIX-CONNECT:dir/s
 *   NS:       socat UNIX-LISTEN:dir/s,fork          TCP:127.0.0.1:target
 * </pre>
 * Why this and not the alternatives: a unix socket bound to a path belongs to the file system, not to a network
 * namespace, so it is the one channel both sides reach with no interface at all (a veth into the root namespace
 * is forbidden; {@code ip netns exec NS curl} spawns a process per request and serves only plain HTTP GETs, while
 * the Kubernetes client needs TLS, watches and many requests). Per-connection forks keep each half stateless:
 * a restarted server behind the target port is reached again without restarting the forwarder.
 */
public final class NetnsForwarder implements AutoCloseable {

    private final int port;
    private final Path dir;
    private final Process inside;
    private final Process outside;

    private NetnsForwarder(int port, Path dir, Process inside, Process outside) {
        this.port = port;
        this.dir = dir;
        this.inside = inside;
        this.outside = outside;
    }

    /** Whether socat, which this needs, is on the PATH (dev/setup.sh installs it). */
    public static boolean available() {
        try {
            return NetnsTestBed.run(List.of("socat", "-V")).exit() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** Forwards a free loopback port of this namespace to {@code 127.0.0.1:target} inside {@code ns}. */
    public static NetnsForwarder open(String ns, int target) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("kube-ferry-fwd-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path socket = dir.resolve("s");
        Process inside = new ProcessBuilder("ip", "netns", "exec", ns, "socat",
                "UNIX-LISTEN:" + socket + ",fork,mode=600", "TCP:127.0.0.1:" + target)
                .redirectErrorStream(true).redirectOutput(dir.resolve("inside.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.exists(socket)) {
            if (!inside.isAlive() || System.nanoTime() > deadline) {
                inside.destroyForcibly();
                throw new IllegalStateException("socat in " + ns + " did not listen on " + socket + ": "
                        + Files.readString(dir.resolve("inside.log")));
            }
            Thread.sleep(10);
        }
        int port = freeLoopbackPort();
        Process outside = new ProcessBuilder("socat", "TCP-LISTEN:" + port + ",bind=127.0.0.1,fork,reuseaddr", "UNIX-CONNECT:" + socket)
                .redirectErrorStream(true).redirectOutput(dir.resolve("outside.log").toFile()).start();
        NetnsForwarder forwarder = new NetnsForwarder(port, dir, inside, outside);
        // Listening once a connection is accepted (it may be refused further in, by a target not up yet).
        while (!forwarder.listening()) {
            if (!outside.isAlive() || System.nanoTime() > deadline) {
                String log = Files.readString(dir.resolve("outside.log"));
                forwarder.close();
                throw new IllegalStateException("socat did not listen on 127.0.0.1:" + port + ": " + log);
            }
            Thread.sleep(10);
        }
        return forwarder;
    }

    private boolean listening() {
        try {
            new java.net.Socket(InetAddress.getLoopbackAddress(), port).close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The port on this namespace's 127.0.0.1. */
    public int port() {
        return port;
    }

    static int freeLoopbackPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Ends both socat processes (ours, by their Process handles; their per-connection children exit with them) and removes the socket. */
    @Override
    public void close() {
        for (Process p : List.of(outside, inside)) {
            p.destroy();
        }
        for (Process p : List.of(outside, inside)) {
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String name : List.of("s", "inside.log", "outside.log")) {
            dir.resolve(name).toFile().delete();
        }
        dir.toFile().delete();
    }
}
