package io.kubeferry.proxy.conntrack;

import io.kubeferry.proxy.model.Endpoint;
import io.kubeferry.proxy.model.Protocol;
import io.kubeferry.proxy.model.ResolvedService;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.kubeferry.proxy.testing.Fixtures.endpoint;
import static io.kubeferry.proxy.testing.Fixtures.port;
import static io.kubeferry.proxy.testing.Fixtures.state;
import static org.junit.jupiter.api.Assertions.assertEquals;

class TcpFlushPolicyTest {

    private static final Endpoint A = endpoint("198.18.0.11", 8080);
    private static final Endpoint B = endpoint("198.18.0.12", 8080);
    private static final Endpoint B_TERMINATING = new Endpoint(B.ip(), B.port(), false, true, true, "node-b", "", java.util.Set.of(),
            java.util.Set.of(), false);

    private static ResolvedService svc(String name, Protocol protocol, String annotation, Endpoint... eps) {
        var b = port("ns", name, "", protocol, "198.19.0." + (name.length() + 10), 80);
        if (annotation != null) {
            b.option(TcpFlushPolicy.ANNOTATION, annotation);
        }
        return b.resolve(eps);
    }

    private static List<String> cut(TcpFlushPolicy policy, ResolvedService before, ResolvedService after) {
        return policy.cut(ConntrackChanges.between(state(before), state(after))).stream()
                .map(r -> r.service().name().name() + " " + r.endpoint().hostPort()).toList();
    }

    @Test
    void theAnnotationWinsOverTheNodeSettingEitherWay() {
        TcpFlushPolicy off = new TcpFlushPolicy(false);
        TcpFlushPolicy every = new TcpFlushPolicy(true);
        assertEquals(List.of("web 198.18.0.12:8080"),
                cut(off, svc("web", Protocol.TCP, " true ", A, B), svc("web", Protocol.TCP, "true", A)));
        assertEquals(List.of(), cut(off, svc("web", Protocol.TCP, null, A, B), svc("web", Protocol.TCP, null, A)));
        assertEquals(List.of("web 198.18.0.12:8080"), cut(every, svc("web", Protocol.TCP, null, A, B), svc("web", Protocol.TCP, null, A)));
        assertEquals(List.of(), cut(every, svc("web", Protocol.TCP, "false", A, B), svc("web", Protocol.TCP, "false", A)));
    }

    @Test
    void onlyTcpAndOnlyEndpointsNotTerminatingWhenLastSeen() {
        TcpFlushPolicy every = new TcpFlushPolicy(true);
        assertEquals(List.of(), cut(every, svc("dns", Protocol.UDP, "true", A, B), svc("dns", Protocol.UDP, "true", A)));
        assertEquals(List.of(), cut(every, svc("web", Protocol.TCP, "true", A, B_TERMINATING), svc("web", Protocol.TCP, "true", A)),
                "terminating when it left: it drains");
        assertEquals(List.of(), cut(every, svc("web", Protocol.TCP, "true", A, B), svc("web", Protocol.TCP, "true", A, B_TERMINATING)),
                "terminating is still listed: not removed");
    }
}
