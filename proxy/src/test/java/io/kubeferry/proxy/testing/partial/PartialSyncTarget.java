package io.kubeferry.proxy.testing.partial;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.testing.trace.PacketTracer;

import java.util.function.Supplier;

/**
 * One mode on fresh fakes, as {@link PartialSyncProperty} drives it.
 *
 * @param dataplane   the mode, on the fakes
 * @param settle      the work the agent does between syncs that follows the kernel rather than the cluster (e.g.
 *                    IPVS graceful termination deleting drained real servers), run before the kernels are compared
 * @param kernelState the fakes' kernel state, normalised only where order or form carries no meaning (each mode
 *                    says why)
 * @param tracer      a packet tracer over the fakes
 */
public record PartialSyncTarget(Dataplane dataplane, Settle settle, Supplier<String> kernelState, Supplier<PacketTracer> tracer) {

    /** See {@code settle}. */
    @FunctionalInterface
    public interface Settle {

        Settle NOTHING = () -> {
        };

        void run() throws DataplaneException;
    }
}
