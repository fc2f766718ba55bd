package io.kubeferry.ipvs;

/** One real server behind a virtual service; masquerading forward is the only method kube-ferry uses. */
record RealServer(String virtualKey, String address, int port, int weight) {

    String key() {
        return virtualKey + ">" + address + ":" + port;
    }
}
