package io.kubeferry.proxy.health;

import io.kubeferry.proxy.dataplane.SchedulerInForce;
import io.kubeferry.proxy.model.Cidr;
import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.IpFamily;
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
        return body(state, services(state, schedulers, false), state.serviceCIDRs().stream().map(Cidr::toString).toList()).encode();
    }

    /**
     * Every family the agent programs: the Service ports of all of them (each entry names its {@code ipFamily}, a
     * dual-stack Service appears once per family with that family's ClusterIP and endpoints), every family's
     * ServiceCIDRs, and {@code ipFamilies}, the families programmed; {@code generation} is the first family's. One
     * family gives what {@link #render(ProxyState, Map)} gives, plus the two family members.
     */
    public static String render(Map<IpFamily, ProxyState> states, Map<IpFamily, Map<ServicePortName, SchedulerInForce>> schedulers) {
        ProxyState first = states.values().iterator().next();
        JsonArray services = new JsonArray();
        List<String> cidrs = new java.util.ArrayList<>();
        states.forEach((family, state) -> {
            services(state, schedulers.getOrDefault(family, Map.of()), true).forEach(services::add);
            state.serviceCIDRs().forEach(c -> cidrs.add(c.toString()));
        });
        return body(first, services, cidrs).put("ipFamilies", new JsonArray(states.keySet().stream().map(IpFamily::apiName).toList()))
                .encode();
    }

    private static JsonObject body(ProxyState state, JsonArray services, List<String> serviceCIDRs) {
        return new JsonObject().put("node", state.node().name()).put("generation", state.generation())
                .put("serviceCIDRs", new JsonArray(serviceCIDRs)).put("services", services);
    }

    private static JsonArray services(ProxyState state, Map<ServicePortName, SchedulerInForce> schedulers, boolean withFamily) {
        JsonArray services = new JsonArray();
        for (ResolvedService svc : state.services().values()) {
            JsonObject entry = new JsonObject();
            entry.put("name", svc.name().toString()).put("protocol", svc.name().protocol().toString());
            if (withFamily) {
                entry.put("ipFamily", state.family().apiName());
            }
            services.add(entry
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
        return services;
    }

    private static JsonArray hostPorts(List<Endpoint> endpoints) {
        return new JsonArray(endpoints.stream().map(Endpoint::hostPort).toList());
    }
}
