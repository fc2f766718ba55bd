package io.kubeferry.proxy.testing.partial;

import io.kubeferry.proxy.dataplane.Dataplane;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.testing.trace.PacketTracer;

/** One mode on fresh fakes, as {@link PartialSyncProperty} drives it. */
public interface PartialSyncTarget {

    Dataplane dataplane();

    /**
     * The work the agent does between syncs that follows the kernel rather than the cluster (e.g. IPVS
     * graceful termination deleting drained real servers), run before the kernels are compared.
     */
    default void settle() throws DataplaneException {
    }

    /** The fakes' kernel state, normalised only where order or form carries no meaning (each mode says why). */
    String kernelState();

    /** A packet tracer over these fakes. */
    PacketTracer tracer();
}
