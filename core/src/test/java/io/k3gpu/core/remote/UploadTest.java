package io.k3gpu.core.remote;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class UploadTest {
    @TempDir
    Path dir;

    private static String stdin(Upload u) throws IOException {
        try (InputStream in = u.openStdin()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void headerAnnouncesSizeAndSha256AheadOfTheContent() throws IOException {
        Upload u = Upload.of("abc".getBytes(StandardCharsets.UTF_8));
        // FIPS 180-2's test vector for "abc".
        assertThat(stdin(u)).isEqualTo("3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\nabc");
        assertThat(u.stdinLength()).isEqualTo(stdin(u).length());
    }

    @Test
    void aFileIsDescribedAsItsBytesWouldBe() throws IOException {
        Path f = dir.resolve("install.sh");
        Files.writeString(f, "#!/bin/sh\necho k3s\n");
        Upload fromFile = Upload.of(f);
        Upload fromBytes = Upload.of(Files.readAllBytes(f));
        assertThat(stdin(fromFile)).isEqualTo(stdin(fromBytes));
        assertThat(fromFile.size()).isEqualTo(19);
        assertThat(fromFile).hasToString(f.toString());
    }

    @Test
    void aChangedFileIsHashedAgain() throws IOException {
        Path f = dir.resolve("k3s");
        Files.writeString(f, "one");
        String first = Upload.of(f).sha256();
        Files.writeString(f, "two, longer");
        assertThat(Upload.of(f).sha256()).isNotEqualTo(first)
                .isEqualTo(Upload.of("two, longer".getBytes(StandardCharsets.UTF_8)).sha256());
    }
}
