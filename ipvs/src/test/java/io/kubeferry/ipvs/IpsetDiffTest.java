package io.kubeferry.ipvs;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ipset program of a sync and the reading of {@code ipset save}: values in, text out, no tools. */
class IpsetDiffTest {

    private static SortedSet<String> members(String... m) {
        return new TreeSet<>(java.util.List.of(m));
    }

    @Test
    void removalsComeBeforeAdditionsAndUnchangedMembersAreNotWritten() {
        Map<String, SortedSet<String>> current = Map.of("KUBE-CLUSTER-IP", members("198.19.0.1,tcp:80", "198.19.0.2,tcp:80"));
        Map<String, SortedSet<String>> desired = Map.of("KUBE-CLUSTER-IP", members("198.19.0.1,tcp:80", "198.19.0.3,tcp:80"),
                "KUBE-NODE-PORT-TCP", members("30080"));
        String program = IpsetDiff.program(desired, current, false);
        String nodePort = "add KUBE-NODE-PORT-TCP 30080\n";
        assertTrue(program.startsWith("del KUBE-CLUSTER-IP 198.19.0.2,tcp:80\n"), program);
        assertTrue(program.contains("add KUBE-CLUSTER-IP 198.19.0.3,tcp:80\n") && program.contains(nodePort), program);
        assertEquals(3, program.lines().count(), program);
    }

    @Test
    void aSetNoLongerDesiredIsEmptiedAndFullSyncsCreateEverySetFirst() {
        assertEquals("del KUBE-LOOP-BACK 198.18.0.2,tcp:8080,198.18.0.2\n",
                IpsetDiff.program(Map.of(), Map.of("KUBE-LOOP-BACK", members("198.18.0.2,tcp:8080,198.18.0.2")), false));
        String full = IpsetDiff.program(Map.of(), Map.of(), true);
        assertEquals(Ipset.ALL.size(), full.lines().filter(l -> l.startsWith("create ")).count());
        assertTrue(full.contains("create KUBE-NODE-PORT-TCP bitmap:port range 0-65535\n"), full);
        assertTrue(full.contains("create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536\n"), full);
    }

    @Test
    void saveOutputYieldsOnlyOurSetsMembers() {
        String save = """
                create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
                add KUBE-CLUSTER-IP 198.19.0.1,tcp:80
                add KUBE-CLUSTER-IP 198.19.0.2,udp:53
                create someone-elses hash:ip family inet
                add someone-elses 10.0.0.1
                """;
        assertEquals(Map.of("KUBE-CLUSTER-IP", members("198.19.0.1,tcp:80", "198.19.0.2,udp:53")), IpsetDiff.parseSave(save));
    }
}
