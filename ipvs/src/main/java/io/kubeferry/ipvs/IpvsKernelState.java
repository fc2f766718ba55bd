package io.kubeferry.ipvs;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the kernel holds of kube-ferry's, as far as a sync needs to know: read back on full syncs, remembered
 * between them (what partial syncs and housekeeping diff against).
 *
 * @param table              virtual and real servers (draining ones at weight 0 included)
 * @param desiredRealServers {@link RealServer#key()} of the real servers the last sync wanted; empty when read
 *                           from the kernel (then every weight-0 one may be a leftover to drain)
 * @param addresses          the addresses on kube-ipvs0
 * @param ipsets             members of kube-ferry's sets, by set name
 * @param noNodeAccess       what KUBE-IPVS-OUT-FILTER drops, as the last sync wrote it; empty when read from the
 *                           kernel (a full sync writes the chain whole whatever it holds)
 */
record IpvsKernelState(IpvsSaveParser.Table table, Set<String> desiredRealServers, SortedSet<String> addresses,
        Map<String, SortedSet<String>> ipsets, SortedSet<IpvsRenderer.NoNodeAccess> noNodeAccess) {

    /** A kernel with nothing of IPVS mode's in it: what render diffs against. */
    static final IpvsKernelState EMPTY = new IpvsKernelState(new IpvsSaveParser.Table(List.of(), List.of()), Set.of(),
            new TreeSet<>(), Map.of(), new TreeSet<>());

    /** The same kernel with its real servers replaced (graceful termination deleted some). */
    IpvsKernelState withRealServers(List<RealServer> realServers) {
        return new IpvsKernelState(new IpvsSaveParser.Table(table.virtualServers(), List.copyOf(realServers)),
                desiredRealServers, addresses, ipsets, noNodeAccess);
    }
}
