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
        IpvsGuest.Result setup = GUEST.run(IpvsGuest.bed(2) + """
                modprobe ip_vs_rr
                ip netns exec node sysctl -qw net.ipv4.vs.conntrack=1
                ip -n node link add kube-ipvs0 type dummy
                ip -n node addr add 198.19.0.1/32 dev kube-ipvs0
                ip netns exec node ipvsadm -A -t 198.19.0.1:80 -s rr
                ip netns exec node ipvsadm -a -t 198.19.0.1:80 -r 198.18.0.11:8080 -m
                ip netns exec node ipvsadm -a -t 198.19.0.1:80 -r 198.18.0.12:8080 -m
                """);
        assertTrue(setup.ok(), "exit " + setup.exit() + "\n" + setup.err());
        IpvsGuest.Result traffic = GUEST.run("ip netns exec client python3 /run/kf-share/bed.py ask 198.19.0.1 80 6");
        assertTrue(traffic.ok(), traffic.err());
        List<String> answers = traffic.out().lines().toList();
        assertEquals(6, answers.size(), traffic.out());
        assertEquals(3, answers.stream().filter("pod-1"::equals).count(), "rr alternates: " + answers);
        assertEquals(3, answers.stream().filter("pod-2"::equals).count(), "rr alternates: " + answers);
        IpvsGuest.Result stats = GUEST.run("ip netns exec node ipvsadm -Ln --stats");
        assertTrue(stats.out().contains("198.18.0.11:8080"), stats.out());
    }
}
