package io.kubeferry.proxy.health;

import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The /debug/state body: the state the kernel was last programmed with, one entry per Service port with the
 * endpoints this node chose for it, and the cluster's ServiceCIDRs. A kube-ferry addition (kube-proxy has no such path) for operators asking
 * "what does the agent think it programmed?".
 */
public final class DebugState {

    private DebugState() {
    }

    public static String render(ProxyState state) {
        JsonArray services = new JsonArray();
        for (ResolvedService svc : state.services().values()) {
            services.add(new JsonObject()
                    .put("name", svc.name().toString())
                    .put("protocol", svc.name().protocol().toString())
                    .put("clusterIP", svc.port().clusterIP())
                    .put("port", svc.port().port())
                    .put("nodePort", svc.port().nodePort())
                    .put("clusterEndpoints", hostPorts(svc.clusterEndpoints()))
                    .put("localEndpoints", hostPorts(svc.localEndpoints())));
        }
        return new JsonObject().put("node", state.node().name()).put("generation", state.generation())
                .put("serviceCIDRs", new JsonArray(state.serviceCIDRs().stream().map(Cidr::toString).toList()))
                .put("services", services).encode();
    }

    private static JsonArray hostPorts(List<Endpoint> endpoints) {
        return new JsonArray(endpoints.stream().map(Endpoint::hostPort).toList());
    }
}
