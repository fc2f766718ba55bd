package io.kubeferry.proxy.exec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequiredToolsTest {

    @Test
    void namesEveryMissingToolAndTheMode(@TempDir Path dir) throws IOException {
        Path tool = dir.resolve("iptables-restore");
        Files.writeString(tool, "#!/bin/sh\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("ipset"), "not executable");
        RequiredTools tools = new RequiredTools(List.of(dir), Files::isExecutable);

        assertEquals(List.of("ipset", "ipvsadm"), tools.missing(List.of("iptables-restore", "ipset", "ipvsadm")));
        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> tools.require("ipvs", List.of("iptables-restore", "ipset", "ipvsadm")));
        assertTrue(error.getMessage().contains("proxy mode ipvs needs ipset, ipvsadm"), error.getMessage());
    }

    @Test
    void presentToolsPass(@TempDir Path dir) {
        RequiredTools tools = new RequiredTools(List.of(dir), p -> p.getFileName().toString().equals("conntrack"));
        tools.require("iptables", List.of("conntrack"));
        assertEquals(List.of(), tools.missing(List.of("conntrack")));
        assertEquals(dir.resolve("conntrack"), tools.locate("conntrack").orElseThrow());
        assertTrue(tools.locate("ipset").isEmpty());
    }
}
