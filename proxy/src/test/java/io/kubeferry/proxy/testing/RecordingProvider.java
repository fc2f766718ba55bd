package io.kubeferry.proxy.testing;

import io.kubeferry.proxy.dataplane.CleanupReport;
import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.dataplane.SyncRequest;
import io.kubeferry.proxy.dataplane.SyncResult;
import io.kubeferry.proxy.model.IpFamily;
import io.kubeferry.proxy.model.ServicePortName;
import io.kubeferry.proxy.scheduler.SchedulerFallbacks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A dual-stack mode that programs nothing and records what it is asked, per family instance, in call order: the
 * agent's and the CLI's side of the per-family contract, tested without a backend. IPv4 needs {@code iptables-restore},
 * IPv6 {@code ip6tables-restore} (as iptables mode will), so a test's tool runner can lack either. It goes by the mode
 * name "nftables", which has a KubeProxyConfiguration section and no provider registered for this module's tests.
 */
public final class RecordingProvider implements DataplaneProvider {

    /** One call: which family's instance, what, and the request for a sync. */
    public record Call(IpFamily family, String what, SyncRequest request) {
    }

    private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
    private final Set<IpFamily> kernelFails = EnumSet.noneOf(IpFamily.class);
    private final List<IpFamily> syncFailures = Collections.synchronizedList(new ArrayList<>());
    private volatile Map<ServicePortName, String> fallbacks = Map.of();

    /** {@code family}'s kernel check fails ("no IPv6 in this kernel"). */
    public RecordingProvider failingKernel(IpFamily family) {
        kernelFails.add(family);
        return this;
    }

    /** {@code family}'s next sync fails. */
    public void failNextSync(IpFamily family) {
        syncFailures.add(family);
    }

    /**
     * After each successful sync every family's instance reports these scheduler fallbacks, each through its own
     * {@link SchedulerFallbacks}, as the backends do.
     */
    public RecordingProvider fallingBack(Map<ServicePortName, String> reported) {
        fallbacks = Map.copyOf(reported);
        return this;
    }

    public List<Call> calls() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    public List<Call> syncs() {
        return calls().stream().filter(c -> c.what().equals("sync")).toList();
    }

    @Override
    public String mode() {
        return "nftables";
    }

    @Override
    public List<String> requiredTools(IpFamily family) {
        return List.of(family == IpFamily.IPv4 ? "iptables-restore" : "ip6tables-restore");
    }

    @Override
    public Set<IpFamily> families() {
        return EnumSet.allOf(IpFamily.class);
    }

    @Override
    public Dataplane create(DataplaneContext context) {
        IpFamily family = context.family();
        SchedulerFallbacks fallbackEvents = new SchedulerFallbacks(context.events());
        return new Dataplane() {

            @Override
            public String mode() {
                return "nftables";
            }

            @Override
            public void checkKernel() throws DataplaneException {
                calls.add(new Call(family, "checkKernel", null));
                if (kernelFails.contains(family)) {
                    throw new DataplaneException("no " + family + " in this kernel (/proc/sys/net/ipv6 missing)", null);
                }
            }

            @Override
            public String render(SyncRequest request) {
                return "# " + family + " program of " + request.state().services().size() + " Service ports\n";
            }

            @Override
            public SyncResult sync(SyncRequest request) throws DataplaneException {
                if (request.state().family() != family) {
                    throw new AssertionError("the " + family + " instance was given a " + request.state().family() + " state");
                }
                calls.add(new Call(family, "sync", request));
                if (syncFailures.remove(family)) {
                    throw new DataplaneException(family + " restore failed", null);
                }
                fallbackEvents.report(fallbacks);
                return new SyncResult(request.full(), Duration.ZERO, Duration.ZERO, Map.of(), 0);
            }

            @Override
            public boolean kernelStateLost() {
                calls.add(new Call(family, "kernelStateLost", null));
                return false;
            }

            @Override
            public CleanupReport cleanup() {
                calls.add(new Call(family, "cleanup", null));
                return CleanupReport.of("nftables").plus(CleanupReport.CHAINS, family == IpFamily.IPv4 ? 3 : 2);
            }
        };
    }
}
