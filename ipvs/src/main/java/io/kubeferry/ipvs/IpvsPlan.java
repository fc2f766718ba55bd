package io.kubeferry.ipvs;

import java.util.List;

/**
 * The exact ipvsadm changes for one sync, in apply order, and the table the kernel holds once they are
 * applied (what the next partial sync diffs against). {@link #restoreText()} is the stdin of {@code ipvsadm -R}.
 */
record IpvsPlan(List<String> lines, IpvsSaveParser.Table result) {

    IpvsPlan {
        lines = List.copyOf(lines);
    }

    String restoreText() {
        return lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
    }
}
