package io.kubeferry.proxy.watch;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InitialListsTest {

    @Test
    void aKindIsSyncedOnlyOnceEveryObjectItsStoreHeldHasBeenDelivered() {
        InitialLists lists = new InitialLists();
        lists.delivered("Service", "default/a");
        // The informer's cache holds three; the handlers have delivered one so far.
        assertFalse(lists.synced("Service", () -> List.of("default/a", "default/b", "default/c")));
        assertEquals(2, lists.pending("Service"));
        lists.delivered("Service", "default/b");
        assertFalse(lists.synced("Service", () -> List.of("never read again")));
        lists.delivered("Service", "default/c");
        assertTrue(lists.synced("Service", () -> List.of("never read again")));
        assertEquals(0, lists.pending("Service"));
    }

    @Test
    void theStoreIsReadOnceAndKindsAreIndependent() {
        InitialLists lists = new InitialLists();
        AtomicInteger reads = new AtomicInteger();
        assertFalse(lists.synced("EndpointSlice", () -> {
            reads.incrementAndGet();
            return List.of("default/s1");
        }));
        assertTrue(lists.synced("Node", List::of), "an empty list is delivered at once");
        assertFalse(lists.synced("EndpointSlice", () -> {
            reads.incrementAndGet();
            return List.of();
        }));
        lists.delivered("EndpointSlice", "default/s1");
        assertTrue(lists.synced("EndpointSlice", List::of));
        assertEquals(1, reads.get());
    }

    @Test
    void deliveriesOfObjectsCreatedAfterTheListDoNotHoldTheKindBack() {
        InitialLists lists = new InitialLists();
        assertFalse(lists.synced("Service", () -> List.of("default/a")));
        lists.delivered("Service", "default/new");
        assertFalse(lists.synced("Service", List::of));
        lists.delivered("Service", "default/a");
        assertTrue(lists.synced("Service", List::of));
        // Once synced, later deliveries change nothing.
        lists.delivered("Service", "default/later");
        assertTrue(lists.synced("Service", List::of));
    }
}
