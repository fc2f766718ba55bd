package io.kubeferry.nftables;

import io.kubeferry.proxy.model.ServicePortName;

import java.util.Set;

/**
 * One sync's transactions: {@code cleanup} deletes chains made stale by an earlier sync (on its own, as upstream
 * does: its failure only postpones the deletion), {@code main} is the sync itself; {@code next} is what the table
 * holds once {@code main} applied. {@code touched}: on a partial sync, the Service ports whose programs it rendered
 * anew or removed (the others' are {@code next}'s unchanged), so a caller can keep figures over all programs up
 * to date from those alone; on a full sync, empty (every program is new).
 */
record NftSync(NftTransaction cleanup, NftTransaction main, NftMemory next, boolean full, Set<ServicePortName> touched) {

    NftSync {
        touched = Set.copyOf(touched);
    }
}
