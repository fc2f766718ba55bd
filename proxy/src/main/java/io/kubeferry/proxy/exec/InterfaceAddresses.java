package io.kubeferry.proxy.exec;

import java.util.ArrayList;
import java.util.List;

/** Reads {@code ip -o -4 addr show}: one line per address, "N: DEVICE inet A.B.C.D/LEN ...". */
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

    public static List<Address> parse(String text) {
        List<Address> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            for (int i = 0; i + 1 < f.length; i++) {
                if (f[i].equals("inet")) {
                    out.add(new Address(f.length > 1 ? f[1] : "", f[i + 1].split("/")[0]));
                }
            }
        }
        return out;
    }
}
