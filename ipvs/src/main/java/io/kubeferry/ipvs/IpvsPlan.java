package io.kubeferry.ipvs;

import java.util.List;

/** The exact ipvsadm changes for one sync, in apply order; {@link #restoreText()} is the stdin of {@code ipvsadm --restore}. */
record IpvsPlan(List<String> lines) {
    IpvsPlan {
        lines = List.copyOf(lines);
    }

    String restoreText() {
        return lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
    }
}
