package io.kubeferry.proxy.exec;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code ip -o -4 addr show} (one line per address, "N: DEVICE inet A.B.C.D/LEN ...") and, for IPv6,
 * {@code ip -o -6 addr show} ("N: DEVICE inet6 2001:db8::1/64 scope global ..."): the kernel's local addresses, which
 * NodePorts open on, per IP family.
 */
public final class InterfaceAddresses {

    /** One address (IPv6 in canonical form, as the state carries it) and the device that holds it. */
    public record Address(String device, String ip) {
    }

    private InterfaceAddresses() {
    }

    /** Every IPv4 address of the namespace {@code tools} runs in, with its device (one {@code ip -o -4 addr show}). */
    public static List<Address> shown(ToolRunner tools) throws ToolException {
        return shown(tools, io.kubeferry.proxy.model.IpFamily.IPv4);
    }

    /** Every address of {@code family} in the namespace {@code tools} runs in ({@code ip -o -4|-6 addr show}). */
    public static List<Address> shown(ToolRunner tools, io.kubeferry.proxy.model.IpFamily family) throws ToolException {
        String flag = family == io.kubeferry.proxy.model.IpFamily.IPv6 ? "-6" : "-4";
        return parse(tools.run(ToolCommand.of("ip", "-o", flag, "addr", "show")).stdout()).stream().filter(a -> family.matches(a.ip()))
                .toList();
    }

    /** The distinct addresses of {@code family}, in the order {@code ip} lists them. */
    public static List<String> ips(ToolRunner tools, io.kubeferry.proxy.model.IpFamily family) throws ToolException {
        return shown(tools, family).stream().map(Address::ip).distinct().toList();
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
                if (f[i].equals("inet")) {
                    out.add(new Address(f.length > 1 ? f[1] : "", f[i + 1].split("/")[0]));
                } else if (f[i].equals("inet6")) {
                    out.add(new Address(f.length > 1 ? f[1] : "", io.kubeferry.proxy.model.Cidr.canonical(f[i + 1].split("/")[0])));
                }
            }
        }
        return out;
    }
}
