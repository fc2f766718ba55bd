package io.kubeferry.nftables;

/**
 * One sync's transactions: {@code cleanup} deletes chains made stale by an earlier sync (run first, on its own, as
 * upstream does: its failure only postpones the deletion), {@code main} is the sync itself; {@code next} is what
 * the table holds once {@code main} applied.
 */
record NftSync(NftTransaction cleanup, NftTransaction main, NftMemory next, boolean full) {
}
