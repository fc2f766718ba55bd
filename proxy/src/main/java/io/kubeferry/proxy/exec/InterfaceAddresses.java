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
