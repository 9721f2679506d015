package io.k3gpu.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;

/** The library needs no desktop module (AWT, ImageIO): drawing charts is the command line's business. */
class CoreModulesTest {

    @Test
    void coreClassesNeedNoJavaDesktop() {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), "--print-module-deps", "--ignore-missing-deps",
                "--multi-release", "17", Path.of("target", "classes").toString());
        assertThat(rc).as(err.toString()).isZero();
        assertThat(out.toString().strip()).startsWith("java.base").doesNotContain("java.desktop");
    }
}
