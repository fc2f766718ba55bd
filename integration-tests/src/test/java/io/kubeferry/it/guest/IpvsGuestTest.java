package io.kubeferry.it.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real-IPVS test bed itself: a guest kernel with IPVS, and real TCP through an IPVS virtual server. */
class IpvsGuestTest {

    @RegisterExtension
    static final IpvsGuest GUEST = new IpvsGuest();

    /** node namespace with a bridge, two pod namespaces serving HTTP with their name, and a client namespace. */
    private static final String BED = """
            set -ex
            ip netns add node; ip netns add client
            ip -n node link set lo up
            ip -n node link add kbr0 type bridge
            ip -n node addr add 198.18.0.1/24 dev kbr0
            ip -n node link set kbr0 up
            for i in 1 2; do
              ip netns add p$i
              ip -n node link add v$i type veth peer name eth0 netns p$i
              ip -n node link set v$i master kbr0 up
              ip -n p$i addr add 198.18.0.1$i/24 dev eth0
              ip -n p$i link set eth0 up; ip -n p$i link set lo up
              ip -n p$i route add 198.18.1.0/24 via 198.18.0.1
              mkdir -p /tmp/www$i && echo pod-$i > /tmp/www$i/index.html
              ip netns exec p$i busybox httpd -p 8080 -h /tmp/www$i
            done
            ip -n node link add ext0 type veth peer name eth0 netns client
            ip -n node addr add 198.18.1.1/24 dev ext0; ip -n node link set ext0 up
            ip -n client addr add 198.18.1.2/24 dev eth0; ip -n client link set eth0 up; ip -n client link set lo up
            ip -n client route add 198.19.0.0/16 via 198.18.1.1
            ip netns exec node sysctl -qw net.ipv4.ip_forward=1
            """;

    @Test
    void theGuestKernelHasIpvsAndDummyLinks() throws Exception {
        IpvsGuest.Result r = GUEST.run("modprobe ip_vs && ipvsadm -A -t 198.19.0.1:80 -s rr && ipvsadm -Ln && "
                + "ip link add kube-ipvs0 type dummy && ip -br link show kube-ipvs0 && ipvsadm -C && ip link del kube-ipvs0");
        assertTrue(r.ok(), r.err());
        assertTrue(r.out().contains("TCP  198.19.0.1:80 rr"), r.out());
        assertTrue(r.out().contains("kube-ipvs0"), r.out());
        System.out.println("guest boot time: " + GUEST.bootTime().toMillis() + " ms");
    }

    @Test
    void realTcpThroughAnIpvsVirtualServerReachesBothBackendsRoundRobin() throws Exception {
        IpvsGuest.Result setup = GUEST.run(BED + """
                modprobe ip_vs_rr
                ip netns exec node sysctl -qw net.ipv4.vs.conntrack=1
                ip -n node link add kube-ipvs0 type dummy
                ip -n node addr add 198.19.0.1/32 dev kube-ipvs0
                ip netns exec node ipvsadm -A -t 198.19.0.1:80 -s rr
                ip netns exec node ipvsadm -a -t 198.19.0.1:80 -r 198.18.0.11:8080 -m
                ip netns exec node ipvsadm -a -t 198.19.0.1:80 -r 198.18.0.12:8080 -m
                """);
        assertTrue(setup.ok(), "exit " + setup.exit() + "\n" + setup.err());
        IpvsGuest.Result traffic = GUEST.run("for i in 1 2 3 4 5 6; do ip netns exec client curl -s -m 5 http://198.19.0.1/; done");
        assertTrue(traffic.ok(), traffic.err());
        List<String> answers = traffic.out().lines().toList();
        assertEquals(6, answers.size(), traffic.out());
        assertEquals(3, answers.stream().filter("pod-1"::equals).count(), "rr alternates: " + answers);
        assertEquals(3, answers.stream().filter("pod-2"::equals).count(), "rr alternates: " + answers);
        IpvsGuest.Result stats = GUEST.run("ip netns exec node ipvsadm -Ln --stats");
        assertTrue(stats.out().contains("198.18.0.11:8080"), stats.out());
    }
}
