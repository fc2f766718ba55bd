package io.kubeferry.proxy.exec;

import io.kubeferry.proxy.model.IpFamily;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code ip -o -4 addr show}: one line per address, "N: DEVICE inet A.B.C.D/LEN ..." (and {@code ip -o -6 addr
 * show}'s "N: DEVICE inet6 2001:db8::1/64 ...", addresses in the canonical form ip prints).
 */
public final class InterfaceAddresses {

    /** One IPv4 address and the device that holds it. */
    public record Address(String device, String ip) {
    }

    private InterfaceAddresses() {
    }

    /** Every IPv4 address of the namespace {@code tools} runs in, with its device (one {@code ip -o -4 addr show}). */
    public static List<Address> shown(ToolRunner tools) throws ToolException {
        return parse(tools.run(ToolCommand.of("ip", "-o", "-4", "addr", "show")).stdout());
    }

    /** The distinct IPv4 addresses of the namespace {@code tools} runs in, in the order {@code ip} lists them. */
    public static List<String> ips(ToolRunner tools) throws ToolException {
        return shown(tools).stream().map(Address::ip).distinct().toList();
    }

    /** The distinct addresses of {@code family} of the namespace {@code tools} runs in, in the order {@code ip} lists them. */
    public static List<String> ips(ToolRunner tools, IpFamily family) throws ToolException {
        if (family == IpFamily.IPv4) {
            return ips(tools);
        }
        return parse(tools.run(ToolCommand.of("ip", "-o", "-6", "addr", "show")).stdout()).stream().map(Address::ip).distinct().toList();
    }

    public static List<Address> parse(String text) {
        List<Address> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            for (int i = 0; i + 1 < f.length; i++) {
                if (f[i].equals("inet") || f[i].equals("inet6")) {
                    out.add(new Address(f.length > 1 ? f[1] : "", f[i + 1].split("/")[0]));
                }
            }
        }
        return out;
    }
}
