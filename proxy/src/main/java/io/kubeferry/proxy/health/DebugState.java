package io.kubeferry.proxy.health;

import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.ProxyState;
import io.kubeferry.proxy.model.ResolvedService;
import io.kubeferry.proxy.model.ServicePortName;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;

/**
 * The /debug/state body: the state the kernel was last programmed with, one entry per Service port with the
 * endpoints this node chose for it and the load-balancing algorithm in force (and why), and the cluster's ServiceCIDRs. A kube-ferry addition (kube-proxy has no such path) for operators asking
 * "what does the agent think it programmed?".
 */
public final class DebugState {

    private DebugState() {
    }

    public static String render(ProxyState state) {
        return render(state, Map.of());
    }

    /**
     * @param schedulers the algorithm in force per Service port, and why, as the dataplane reported it
     *                   ({@code Dataplane.schedulers()}); a port without one has no {@code scheduler} member
     */
    public static String render(ProxyState state, Map<ServicePortName, SchedulerInForce> schedulers) {
        JsonArray services = new JsonArray();
        for (ResolvedService svc : state.services().values()) {
            JsonObject entry = new JsonObject();
            services.add(entry
                    .put("name", svc.name().toString())
                    .put("protocol", svc.name().protocol().toString())
                    .put("clusterIP", svc.port().clusterIP())
                    .put("port", svc.port().port())
                    .put("nodePort", svc.port().nodePort())
                    .put("clusterEndpoints", hostPorts(svc.clusterEndpoints()))
                    .put("localEndpoints", hostPorts(svc.localEndpoints())));
            SchedulerInForce s = schedulers.get(svc.name());
            if (s != null) {
                JsonObject scheduler = new JsonObject().put("algorithm", s.algorithm())
                        .put("flags", new JsonArray(s.flags().stream().sorted().toList())).put("why", s.why().label());
                if (!s.reason().isEmpty()) {
                    scheduler.put("reason", s.reason());
                }
                entry.put("scheduler", scheduler);
            }
        }
        return new JsonObject().put("node", state.node().name()).put("generation", state.generation())
                .put("serviceCIDRs", new JsonArray(state.serviceCIDRs().stream().map(Cidr::toString).toList()))
                .put("services", services).encode();
    }

    private static JsonArray hostPorts(List<Endpoint> endpoints) {
        return new JsonArray(endpoints.stream().map(Endpoint::hostPort).toList());
    }
}
