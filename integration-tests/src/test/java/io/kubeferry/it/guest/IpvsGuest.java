package io.kubeferry.it.guest;

import io.kubeferry.proxy.exec.RequiredTools;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A Debian guest kernel with IPVS, booted once per test class under QEMU software emulation (the host
 * kernel has no IPVS). The guest sees the host's filesystem read-only with a tmpfs overlay, so the host's
 * tools and Java run inside it. Commands go through a shared directory: the host writes cmd-N.sh, the
 * guest runs it and writes out-N, err-N and rc-N. The QEMU process is ours and is ended by PID. The guest's
 * one NIC is QEMU user networking without a default route: it reaches the host's loopback as 10.0.2.2 only.
 * Skips, saying why, when QEMU or the prepared kernel (integration-tests/guest/prepare.sh) is missing.
 */
public final class IpvsGuest implements BeforeAllCallback, AfterAllCallback {

    /** A finished command. */
    public record Result(int exit, String out, String err) {

        public boolean ok() {
            return exit == 0;
        }
    }

    private static final String STAGE2 = """
            #!/bin/sh
            # Guest stage 2, in the host's filesystem: run each command the host drops into the share.
            export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
            mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns
            # /tmp stays the host's (read through the overlay): a checkout or Maven's files may live there.
            # QEMU user networking: 10.0.2.2 is the host's loopback (where the test's API server listens).
            # No default route: nothing in the guest can reach beyond the host.
            modprobe virtio_net 2>/dev/null
            ip link set lo up
            if ip link show eth0 >/dev/null 2>&1; then ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0; fi
            echo ready > /run/kf-share/state
            while [ ! -e /run/kf-share/poweroff ]; do
              for c in /run/kf-share/cmd-*.sh; do
                [ -e "$c" ] || continue
                n=${c##*/cmd-}; n=${n%.sh}
                sh "$c" > /run/kf-share/out-$n 2> /run/kf-share/err-$n
                echo $? > /run/kf-share/rc-$n.tmp && mv /run/kf-share/rc-$n.tmp /run/kf-share/rc-$n
                rm -f "$c"
              done
              sleep 0.05
            done
            sync
            poweroff -f
            """;

    private final AtomicInteger commands = new AtomicInteger();
    private Path share;
    private Process qemu;
    private Duration bootTime;

    /** The prepared kernel directory (newest), or empty. */
    static Optional<Path> prepared() {
        String cache = System.getenv().getOrDefault("KUBE_FERRY_CACHE", System.getProperty("user.home") + "/.cache/kube-ferry");
        Path guest = Path.of(cache, "guest");
        if (!Files.isDirectory(guest)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(guest)) {
            return dirs.filter(d -> Files.exists(d.resolve(".complete"))).max(Comparator.comparing(Path::toString));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static Optional<String> qemuBinary() {
        return RequiredTools.fromEnvironment().locate("qemu-system-x86_64").map(Path::toString);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Optional<String> binary = qemuBinary();
        assumeTrue(binary.isPresent(), "IPVS guest tests need qemu-system-x86_64 (apt-get install qemu-system-x86; dev/setup.sh does)");
        Optional<Path> kernel = prepared();
        assumeTrue(kernel.isPresent(), "no guest kernel prepared: run integration-tests/guest/prepare.sh (dev/setup.sh does)");
        share = Files.createTempDirectory("kube-ferry-guest-");
        Files.writeString(share.resolve("stage2.sh"), STAGE2);
        try (var bed = IpvsGuest.class.getResourceAsStream("/guest/bed.py")) {
            Files.copy(bed, share.resolve("bed.py"));
        }
        Files.copy(kernel.get().resolve("modules-dir"), share.resolve("modules-dir"));
        long start = System.nanoTime();
        qemu = new ProcessBuilder(List.of(binary.get(), "-accel", "tcg", "-cpu", "max", "-m", "2048", "-smp", "2",
                "-nographic", "-no-reboot", "-nic", "user,model=virtio-net-pci",
                "-kernel", kernel.get().resolve("vmlinuz").toString(), "-initrd", kernel.get().resolve("initrd.gz").toString(),
                "-append", "console=ttyS0 panic=-1 quiet",
                "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
                "-virtfs", "local,path=" + share + ",mount_tag=share,security_model=none"))
                .redirectErrorStream(true).redirectOutput(share.resolve("console.log").toFile()).start();
        long deadline = System.currentTimeMillis() + 180_000;
        while (!Files.exists(share.resolve("state"))) {
            if (!qemu.isAlive() || System.currentTimeMillis() > deadline) {
                String console = Files.exists(share.resolve("console.log")) ? Files.readString(share.resolve("console.log")) : "";
                afterAll(context);
                throw new IllegalStateException("guest did not boot; console:\n" + console);
            }
            Thread.sleep(50);
        }
        bootTime = Duration.ofNanos(System.nanoTime() - start);
        System.out.println("IPVS guest " + kernel.get().getFileName() + " booted in " + bootTime.toMillis() + " ms");
    }

    /**
     * A node namespace with a bridge (198.18.0.1/24), {@code pods} pod namespaces p1..pN at 198.18.0.1N whose
     * servers answer every line with their name ({@code pod-N}, port 8080, {@code bed.py serve}), and a client
     * namespace (198.18.1.2) routed to 198.19.0.0/16 through the node's ext0 (198.18.1.1).
     */
    public static String bed(int pods) {
        return """
                set -e
                ip netns add node; ip netns add client
                ip -n node link set lo up
                ip -n node link add kbr0 type bridge
                ip -n node addr add 198.18.0.1/24 dev kbr0
                ip -n node link set kbr0 up
                for i in $(seq 1 %d); do
                  ip netns add p$i
                  ip -n node link add v$i type veth peer name eth0 netns p$i
                  ip -n node link set v$i master kbr0 up
                  ip -n p$i addr add 198.18.0.1$i/24 dev eth0
                  ip -n p$i link set eth0 up; ip -n p$i link set lo up
                  ip -n p$i route add default via 198.18.0.1
                  ip netns exec p$i python3 /run/kf-share/bed.py serve pod-$i 8080 > /dev/null 2>&1 &
                done
                ip -n node link add ext0 type veth peer name eth0 netns client
                ip -n node addr add 198.18.1.1/24 dev ext0; ip -n node link set ext0 up
                ip -n client addr add 198.18.1.2/24 dev eth0; ip -n client link set eth0 up; ip -n client link set lo up
                ip -n client route add 198.19.0.0/16 via 198.18.1.1
                ip netns exec node sysctl -qw net.ipv4.ip_forward=1
                """.formatted(pods);
    }

    /**
     * IPv6 beside {@link #bed}'s IPv4, from 2001:db8::/32: the bridge 2001:db8::1/64 and pods p1..pN at
     * 2001:db8::1N/64 (routed via the bridge), the node's ext0 2001:db8:2::1/64 towards the client 2001:db8:2::2/64,
     * which routes the IPv6 Service range 2001:db8:1::/64 through it. Addresses skip duplicate address detection
     * (nodad: it holds a fresh address back for a second or more). IPv6 forwarding is turned on in the node namespace
     * only, as a CNI would: kube-ferry, like upstream, leaves net.ipv6.conf.all.forwarding to the node.
     */
    public static String bed6(int pods) {
        return """
                set -e
                ip netns exec node sysctl -qw net.ipv6.conf.all.forwarding=1
                ip -n node addr add 2001:db8::1/64 dev kbr0 nodad
                for i in $(seq 1 %d); do
                  ip -n p$i addr add 2001:db8::1$i/64 dev eth0 nodad
                  ip -n p$i -6 route add default via 2001:db8::1
                done
                ip -n node addr add 2001:db8:2::1/64 dev ext0 nodad
                ip -n client addr add 2001:db8:2::2/64 dev eth0 nodad
                ip -n client -6 route add 2001:db8:1::/64 via 2001:db8:2::1
                """.formatted(pods);
    }

    /** The host's loopback as the guest reaches it (QEMU user networking). */
    public static final String HOST_FROM_GUEST = "10.0.2.2";

    /** The directory the guest sees as /run/kf-share: files written here are visible in the guest. */
    public Path share() {
        return share;
    }

    public Duration bootTime() {
        return bootTime;
    }

    /** Runs a shell script inside the guest (as root) and waits for it. */
    public Result run(String script, Duration timeout) throws IOException, InterruptedException {
        int n = commands.incrementAndGet();
        Path tmp = share.resolve("tmp-" + n);
        Files.writeString(tmp, script + "\n");
        Files.move(tmp, share.resolve("cmd-" + n + ".sh"));
        Path rc = share.resolve("rc-" + n);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(rc)) {
            if (System.nanoTime() > deadline || !qemu.isAlive()) {
                throw new IllegalStateException("guest command " + n + " did not finish in " + timeout + ": " + script);
            }
            Thread.sleep(20);
        }
        return new Result(Integer.parseInt(Files.readString(rc).trim()),
                Files.readString(share.resolve("out-" + n), StandardCharsets.UTF_8),
                Files.readString(share.resolve("err-" + n), StandardCharsets.UTF_8));
    }

    public Result run(String script) throws IOException, InterruptedException {
        return run(script, Duration.ofSeconds(120));
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (qemu != null) {
            Files.writeString(share.resolve("poweroff"), "");
            if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
                qemu.destroyForcibly();
                qemu.waitFor(10, TimeUnit.SECONDS);
            }
            qemu = null;
        }
        if (share != null) {
            try (Stream<Path> walk = Files.walk(share)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
