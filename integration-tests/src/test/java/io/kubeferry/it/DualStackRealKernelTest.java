package io.kubeferry.it;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.model.IpFamily;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Dual-stack (issue 14) on a real kernel, in network namespaces with IPv6 from 2001:db8::/32 and IPv4 from
 * 198.18.0.0/15: first the bed's own IPv6 plumbing without kube-ferry, then the cases of
 * {@link DualStackRealKernelCases} in iptables and in nftables mode, each with a bed of its own. (IPVS mode's IPv6
 * is proven in the guest kernel: this one has no IPVS.)
 */
class DualStackRealKernelTest {

    /** The dual-stack bed alone: IPv6 flows between client, node and pods as IPv4 does, with no kube-ferry rule. */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Bed {

        private final NetnsTestBed bed = NetnsTestBed.dualStack();
        private NetnsTestBed.Pod pod1;
        private NetnsTestBed.Pod pod2;

        @BeforeAll
        void addPods() throws Exception {
            bed.beforeAll(null);
            pod1 = bed.addPod("pod-1", 11);
            pod2 = bed.addPod("pod-2", 12);
        }

        @AfterAll
        void teardown() {
            bed.afterAll(null);
        }

        @Test
        void theClientReachesPodsOverIpv6ThroughTheNode() throws Exception {
            NetnsTestBed.Client c = bed.client();
            assertEquals("pod-1", c.tcp(pod1.ip6(), 8080), "TCP, client to pod, routed by the node");
            assertEquals("pod-2", c.udp(pod2.ip6(), 5353, 40000), "UDP, client to pod, and the answer back");
            assertEquals("pod-1", c.tcp(pod1.ip(), 8080), "IPv4 beside it");
        }

        @Test
        void theNodeAndOtherPodsReachAPodOverIpv6() throws Exception {
            assertEquals("pod-2", bed.clientIn(bed.nodeNs()).tcp(pod2.ip6(), 8080), "node to pod over the bridge");
            assertEquals("pod-2", bed.clientIn(pod1.ns()).tcp(pod2.ip6(), 8080), "pod to pod on the bridge");
        }

        @Test
        void theNodeHasNoKubeFerryRuleAndNoRouteOffTheMachine() throws Exception {
            assertFalse(bed.stdout(bed.nodeNs(), "ip6tables-nft-save").contains("KUBE-"), "no rule: the traffic above was plain routing");
            // Only connected routes and the Service range (via the bridge): no default route in any namespace.
            for (String ns : List.of(bed.nodeNs(), bed.clientNs(), pod1.ns())) {
                String routes = bed.stdout(ns, "ip", "-6", "route", "show");
                assertFalse(routes.contains("default"), ns + " has no default IPv6 route:\n" + routes);
            }
        }
    }

    /** iptables mode: ip6tables for IPv6 beside iptables for IPv4. */
    @Nested
    class Iptables extends DualStackRealKernelCases {

        @Override
        ProxyConfig config(ProxyConfig dualStack) {
            return dualStack;
        }

        @Override
        String ruleset(IpFamily family) throws Exception {
            return bed.stdout(bed.nodeNs(), family == IpFamily.IPv6 ? "ip6tables-nft-save" : "iptables-nft-save");
        }

        /**
         * As upstream: localhost NodePorts are IPv4's alone (route_localnet has no IPv6 twin), so the IPv6 NodePorts
         * jump excludes ::1. From the node itself, [::1]:NodePort meets nothing listening and is refused (were it
         * DNATed, a packet from ::1 could not leave the node and would time out), while 127.0.0.1:NodePort reaches the
         * endpoints.
         */
        @Test
        @Order(50)
        void localhostNodePortsAreIpv4sAlone() throws Exception {
            NetnsTestBed.Client onNode = bed.clientIn(bed.nodeNs());
            assertTrue(onNode.tcp("127.0.0.1", DUAL_NODE_PORT).startsWith("pod-"), "127.0.0.1:NodePort reaches an endpoint");
            assertEquals("REFUSED", onNode.tcp("::1", DUAL_NODE_PORT), "[::1]:NodePort is not a NodePort");
        }

        @Override
        void assertCleanedUp(IpFamily family) throws Exception {
            String rules = ruleset(family);
            // Except kubelet's KUBE-FIREWALL, which upstream kube-proxy also creates and never removes in cleanup.
            assertFalse(rules.lines().filter(l -> !l.contains("KUBE-FIREWALL")).anyMatch(l -> l.contains("KUBE-")),
                    family + " rules left:\n" + rules);
        }
    }

    /** nftables mode: {@code table ip6 kube-proxy} beside {@code table ip kube-proxy}. */
    @Nested
    class Nftables extends DualStackRealKernelCases {

        @Override
        void assumeMode() throws Exception {
            assumeTrue(NetnsTestBed.run(List.of("nft", "--version")).exit() == 0,
                    "nftables mode needs the nft command (dev/setup.sh installs it)");
        }

        /**
         * NodePorts on the client-facing addresses: nftables mode opens them on the node's primary address only when
         * nodePortAddresses is unset (as upstream), and the bed's first address is the pod bridge's.
         */
        @Override
        ProxyConfig config(ProxyConfig dualStack) {
            return dualStack.withMode("nftables").withNodePortAddresses(
                    List.of(NetnsTestBed.NODE_EXTERNAL_IP + "/32", NetnsTestBed.NODE_EXTERNAL_IP6 + "/128"));
        }

        @Override
        String ruleset(IpFamily family) throws Exception {
            return bed.stdout(bed.nodeNs(), "nft", "list", "table", family == IpFamily.IPv6 ? "ip6" : "ip", "kube-proxy");
        }

        @Override
        void assertCleanedUp(IpFamily family) throws Exception {
            String tables = bed.stdout(bed.nodeNs(), "nft", "list", "tables");
            String table = "table " + (family == IpFamily.IPv6 ? "ip6" : "ip") + " kube-proxy";
            assertFalse(tables.contains(table), table + " left: " + tables);
        }
    }
}
