package io.kubeferry.proxy.exec;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code ip -o -4 addr show}: one line per address, "N: DEVICE inet A.B.C.D/LEN ..." (and {@code -6}'s
 * "N: DEVICE inet6 2001:db8::1/64 ...").
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

    /**
     * Every address of {@code family} in the namespace {@code tools} runs in, with its device ({@code ip -o -4} or
     * {@code -6 addr show}); IPv6 ones in the form {@code ip} prints them (RFC 5952, as {@code Cidr.canonical}).
     */
    public static List<Address> shown(ToolRunner tools, io.kubeferry.proxy.model.IpFamily family) throws ToolException {
        if (family == io.kubeferry.proxy.model.IpFamily.IPv4) {
            return shown(tools);
        }
        return parse(tools.run(ToolCommand.of("ip", "-o", "-6", "addr", "show")).stdout());
    }

    /** The distinct IPv4 addresses of the namespace {@code tools} runs in, in the order {@code ip} lists them. */
    public static List<String> ips(ToolRunner tools) throws ToolException {
        return shown(tools).stream().map(Address::ip).distinct().toList();
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
