package io.kubeferry.nftables;

import io.kubeferry.proxy.config.ProxyConfig;
import io.kubeferry.proxy.dataplane.DataplaneContext;
import io.kubeferry.proxy.dataplane.DataplaneException;
import io.kubeferry.proxy.dataplane.DataplaneProvider;
import io.kubeferry.proxy.exec.ToolCommand;
import io.kubeferry.proxy.exec.ToolException;
import io.kubeferry.proxy.exec.ToolResult;
import io.kubeferry.proxy.exec.ToolRunner;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Start-up: nftables mode names nft as a required tool and refuses kernels before 5.13, as upstream does. */
class NftablesKernelCheckTest {

    private static NftablesKernelCheck kernel(String release, Map<String, String> env) {
        return new NftablesKernelCheck(() -> release, env::get);
    }

    @Test
    void kernelsFrom5_13OnPass() {
        for (String release : List.of("5.13.0", "5.15.0-91-generic", "6.18.0-kf", "10.0")) {
            assertDoesNotThrow(() -> kernel(release + "\n", Map.of()).check(), release);
        }
    }

    @Test
    void anOlderKernelIsRefusedNamingTheMinimumTheKernelAndTheWayOut() {
        for (String release : List.of("5.12.19", "4.19.0-25-amd64", "3.10.0-1160.el7.x86_64")) {
            DataplaneException e = assertThrows(DataplaneException.class, () -> kernel(release, Map.of()).check());
            assertTrue(e.getMessage().contains("requires kernel 5.13 or later") && e.getMessage().contains(release)
                    && e.getMessage().contains("KUBE_PROXY_NFTABLES_SKIP_KERNEL_VERSION_CHECK"), e.getMessage());
        }
    }

    @Test
    void upstreamsEscapeHatchSkipsTheCheckWhenSetToAnythingNonEmpty() {
        assertDoesNotThrow(() -> kernel("4.19.0", Map.of(NftablesKernelCheck.SKIP, "1")).check());
        assertThrows(DataplaneException.class, () -> kernel("4.19.0", Map.of(NftablesKernelCheck.SKIP, "")).check(),
                "empty is unset, as upstream's os.Getenv(...) == \"\"");
        assertDoesNotThrow(() -> kernel("not a version", Map.of(NftablesKernelCheck.SKIP, "yes")).check());
    }

    @Test
    void anUnreadableOrUnparsableReleaseIsAnErrorNotAPass() {
        DataplaneException unparsable = assertThrows(DataplaneException.class, () -> kernel("garbage", Map.of()).check());
        assertTrue(unparsable.getMessage().contains("cannot parse \"garbage\""), unparsable.getMessage());
        NftablesKernelCheck unreadable = new NftablesKernelCheck(() -> {
            throw new java.io.IOException("no /proc");
        }, k -> null);
        assertTrue(assertThrows(DataplaneException.class, unreadable::check).getMessage().contains("no /proc"));
    }

    @Test
    void theDataplaneRunsTheCheckAtStartUp() {
        DataplaneContext context = new DataplaneContext(ProxyConfig.defaults().withMode("nftables"), new FakeNftTools(new FakeNft(),
                List.of("198.18.0.1/24")), new SimpleMeterRegistry());
        NftablesDataplane old = new NftablesDataplane(context, System::nanoTime, kernel("5.10.0", Map.of()));
        assertThrows(DataplaneException.class, old::checkKernel);
        assertDoesNotThrow(new NftablesDataplane(context, System::nanoTime, kernel("6.18.0", Map.of()))::checkKernel);
    }

    /** A runner whose nft prints {@code version} and answers --check with {@code checkExit} and {@code checkError}. */
    private static ToolRunner nft(String version, int checkExit, String checkError) {
        return new ToolRunner() {

            @Override
            public ToolResult run(ToolCommand command) throws ToolException {
                return runAllowingFailure(command);
            }

            @Override
            public ToolResult runAllowingFailure(ToolCommand command) {
                return command.args().contains("--check") ? new ToolResult(checkExit, "", checkError) : new ToolResult(0, version, "");
            }
        };
    }

    @Test
    void nftFrom1_0_1OnAndAKernelThatTakesTheTableArePassed() {
        NftablesKernelCheck kernel = kernel("6.18.0", Map.of());
        assertDoesNotThrow(() -> kernel.check(nft("nftables v1.0.1 (Fearless Fosdick #3)\n", 0, "")));
        assertDoesNotThrow(() -> kernel.check(nft("nftables v1.1.3 (Commodore Bullmoose #4)\n", 0, "")));
        DataplaneException old = assertThrows(DataplaneException.class, () -> kernel.check(nft("nftables v0.9.8 (E.D.S.)\n", 0, "")));
        assertTrue(old.getMessage().contains("requires nft 1.0.1 or later") && old.getMessage().contains("v0.9.8"), old.getMessage());
        DataplaneException refused = assertThrows(DataplaneException.class,
                () -> kernel
                        .check(nft("nftables v1.0.6 (Lester Gooch #5)\n", 1, "Error: Could not process rule: Operation not supported")));
        assertTrue(refused.getMessage().contains("the kernel refused a test nftables transaction")
                && refused.getMessage().contains("Operation not supported"), refused.getMessage());
    }

    @Test
    void nftIsARequiredToolOfTheMode() {
        DataplaneProvider provider = DataplaneProvider.forMode("nftables");
        assertEquals("nftables", provider.mode());
        assertTrue(provider.requiredTools().contains("nft"), provider.requiredTools().toString());
    }
}
