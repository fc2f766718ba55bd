package io.kubeferry.proxy.config;

import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.IpFamily;

import java.util.ArrayList;
import java.util.List;

/** Applies {@code nodePortAddresses} to this node's addresses: the same for both modes. */
public final class NodePortAddresses {

    private NodePortAddresses() {
    }

    /** True when NodePorts open on every local address (the list is empty or says "all"). */
    public static boolean all(List<String> entries) {
        return entries.isEmpty() || entries.contains("all");
    }

    /**
     * The entries that apply to {@code family}'s dataplane: the keywords ({@code primary}, {@code localhost},
     * {@code all}) and the family's own CIDRs. As upstream's NewNodePortAddresses(family, ...), a list that names none
     * of them (only the other family's CIDRs) means every address of the family: {@code [all]}. An empty list stays
     * empty (each mode has its own default).
     */
    public static List<String> forFamily(List<String> entries, IpFamily family) {
        List<String> own = entries.stream()
                .filter(e -> e.equals("primary") || e.equals("localhost") || e.equals("all") || family.matches(e)).toList();
        return own.isEmpty() && !entries.isEmpty() ? List.of("all") : own;
    }

    /**
     * The kernel's addresses with the node's primary IP first: the Node object's first address (of the family), as
     * upstream takes it (the kernel may list another first, e.g. a pod bridge's); the kernel's alone when the Node
     * names none.
     */
    public static List<String> primaryFirst(List<String> node, List<String> kernel) {
        String primary = primary(node);
        if (primary.isEmpty()) {
            return kernel;
        }
        List<String> out = new ArrayList<>(List.of(primary));
        kernel.stream().filter(a -> !a.equals(primary)).forEach(out::add);
        return out;
    }

    /** The node's primary address: its first non-loopback one, or "" when it has none. */
    public static String primary(List<String> addresses) {
        return addresses.stream().filter(a -> !loopback(a)).findFirst().orElse("");
    }

    /** The addresses that are not loopback (127.0.0.0/8), in order. */
    public static List<String> nonLoopback(List<String> addresses) {
        return addresses.stream().filter(a -> !loopback(a)).toList();
    }

    private static boolean loopback(String address) {
        return address.startsWith("127.") || "::1".equals(address);
    }

    /**
     * The addresses the entries pick, in the order the entries name them: {@code primary} (the node's first
     * non-loopback address), {@code localhost} (127.0.0.0/8 or ::1), or a CIDR of either family (it picks only
     * addresses of its own family, so one list serves both families' dataplanes, each given its own addresses).
     */
    public static List<String> select(List<String> entries, List<String> addresses) {
        String primary = primary(addresses);
        List<String> chosen = new ArrayList<>();
        for (String entry : entries) {
            for (String address : addresses) {
                boolean match = switch (entry) {
                    case "primary" -> address.equals(primary);
                    case "localhost" -> loopback(address);
                    default -> Cidr.parse(entry).contains(address);
                };
                if (match && !chosen.contains(address)) {
                    chosen.add(address);
                }
            }
        }
        return chosen;
    }
}
