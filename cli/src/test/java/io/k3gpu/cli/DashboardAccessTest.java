package io.k3gpu.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3gpu.core.error.ExitCode;
import io.k3gpu.core.error.K3gpuException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's bind, token and header rules. */
class DashboardAccessTest {
    static final String TOKEN = "s3cr3t-t0ken-0123456789";
    @TempDir
    Path dir;

    Path token(String content) throws Exception {
        Path f = dir.resolve("token");
        Files.writeString(f, content);
        return f;
    }

    @Test
    void loopbackNeedsNoTokenButEveryOtherAddressRefusesToStartWithoutOne() {
        assertThat(DashboardAccess.of("127.0.0.1:8080", null).needsToken()).isFalse();
        assertThat(DashboardAccess.of("localhost:8080", null).needsToken()).isFalse();
        assertThat(DashboardAccess.of("[::1]:8080", null).needsToken()).isFalse();
        for (String exposed : List.of("0.0.0.0:8080", ":8080", "192.168.1.5:8080", "[::]:8080", "8080")) {
            assertThatThrownBy(() -> DashboardAccess.of(exposed, null))
                    .isInstanceOf(K3gpuException.class)
                    .hasMessage("--listen " + exposed + " would expose the dashboard to the network without a token")
                    .satisfies(e -> assertThat(((K3gpuException) e).exitCode()).isEqualTo(ExitCode.USAGE));
        }
    }

    @Test
    void anExposedDashboardWantsTheBearerTokenOrTheLoginCookie() throws Exception {
        DashboardAccess a = DashboardAccess.of("0.0.0.0:8080", token(TOKEN + "\n"));
        assertThat(a.needsToken()).isTrue();
        assertThat(a.check("10.0.0.1:8080", null, List.of())).isEqualTo(
                new DashboardAccess.Refusal(401, "a bearer token is required"));
        assertThat(a.check("10.0.0.1:8080", "Bearer " + TOKEN, List.of())).isNull();
        assertThat(a.check("10.0.0.1:8080", "bearer " + TOKEN, List.of())).isNull();
        assertThat(a.check("10.0.0.1:8080", "Bearer " + TOKEN + "x", List.of()).status()).isEqualTo(401);
        assertThat(a.check("10.0.0.1:8080", "Basic " + TOKEN, List.of()).status()).isEqualTo(401);
        assertThat(a.check("x", null, List.of("a=b; " + DashboardAccess.COOKIE + "=" + TOKEN))).isNull();
        assertThat(a.check("x", null, List.of(DashboardAccess.COOKIE + "=nope")).status()).isEqualTo(401);
        assertThat(a.loginCookie()).isEqualTo(DashboardAccess.COOKIE + "=" + TOKEN
                + "; Path=/; HttpOnly; SameSite=Strict");
    }

    @Test
    void aTokenGivenOnLoopbackIsRequiredToo() throws Exception {
        DashboardAccess a = DashboardAccess.of("127.0.0.1:0", token(TOKEN));
        assertThat(a.check("127.0.0.1:8080", null, List.of()).status()).isEqualTo(401);
        assertThat(a.check("127.0.0.1:8080", "Bearer " + TOKEN, List.of())).isNull();
    }

    @Test
    void onLoopbackOnlyALoopbackHostIsAnswered() {
        // a page of another site whose name resolves to 127.0.0.1 (DNS rebinding) sends its own name as Host
        DashboardAccess a = DashboardAccess.of("127.0.0.1:8080", null);
        assertThat(a.check("127.0.0.1:8080", null, List.of())).isNull();
        assertThat(a.check("localhost:8080", null, List.of())).isNull();
        assertThat(a.check("[::1]:8080", null, List.of())).isNull();
        assertThat(a.check("evil.example:8080", null, List.of())).isEqualTo(
                new DashboardAccess.Refusal(421, "this dashboard answers only to a loopback Host"));
        assertThat(a.check(null, null, List.of()).status()).isEqualTo(421);
    }

    @Test
    void aShortMissingOrMultiLineTokenIsRefused() throws Exception {
        assertThatThrownBy(() -> DashboardAccess.of("0.0.0.0:1", token("short")))
                .hasMessageContaining("is not one line of at least 16 printable characters");
        assertThatThrownBy(() -> DashboardAccess.of("0.0.0.0:1", token(TOKEN + "\n" + TOKEN)))
                .hasMessageContaining("is not one line");
        assertThatThrownBy(() -> DashboardAccess.of("0.0.0.0:1", token("with a space in it 0123456789")))
                .hasMessageContaining("is not one line");
        assertThatThrownBy(() -> DashboardAccess.of("0.0.0.0:1", dir.resolve("none")))
                .hasMessage("no token file " + dir.resolve("none"));
        assertThatThrownBy(() -> DashboardAccess.of("127.0.0.1:99999", null)).hasMessage("bad --listen '127.0.0.1:99999'");
    }

    @Test
    void everyAnswerCarriesAStrictPolicyWithoutInlineScriptsOrStyles() {
        String csp = DashboardAccess.headers().get("Content-Security-Policy");
        assertThat(csp).isEqualTo("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                + "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
        assertThat(csp).doesNotContain("unsafe-inline", "unsafe-eval", "http:", "https:", "*");
        assertThat(DashboardAccess.headers()).containsEntry("X-Content-Type-Options", "nosniff")
                .containsEntry("Referrer-Policy", "no-referrer").containsEntry("X-Frame-Options", "DENY");
    }
}
