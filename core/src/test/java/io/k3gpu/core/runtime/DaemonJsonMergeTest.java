package io.k3gpu.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3gpu.core.error.ExitCode;
import org.junit.jupiter.api.Test;

class DaemonJsonMergeTest {
    private static final String PATH = "/etc/docker/daemon.json";
    private static final String FRESH = """
            {
                "default-runtime": "nvidia",
                "runtimes": {
                    "nvidia": {
                        "path": "nvidia-container-runtime",
                        "args": []
                    }
                }
            }
            """;

    @Test
    void aMissingFileGetsWhatNvidiaCtkWrites() {
        ConfigEdit edit = DaemonJsonMerge.enableNvidiaDefault(PATH, null);

        assertThat(edit).isEqualTo(new ConfigEdit("", FRESH, true));
    }

    @Test
    void anEmptyOrBlankFileIsAnEmptyConfiguration() {
        assertThat(DaemonJsonMerge.enableNvidiaDefault(PATH, "")).isEqualTo(new ConfigEdit("", FRESH, true));
        assertThat(DaemonJsonMerge.enableNvidiaDefault(PATH, " \n\t\n")).isEqualTo(new ConfigEdit(" \n\t\n", FRESH,
                true));
        assertThat(DaemonJsonMerge.enableNvidiaDefault(PATH, "{}\n").after()).isEqualTo(FRESH);
    }

    @Test
    void keepsLoggingRegistriesAndDataRootInTheirOrder() {
        String before = """
                {
                  "log-driver": "json-file",
                  "log-opts": {
                    "max-size": "10m",
                    "max-file": "3"
                  },
                  "insecure-registries": ["registry.lan:5000", "10.0.0.5:5000"],
                  "registry-mirrors": ["https://mirror.gcr.io"],
                  "data-root": "/mnt/nvme/docker"
                }
                """;

        ConfigEdit edit = DaemonJsonMerge.enableNvidiaDefault(PATH, before);

        assertThat(edit.changed()).isTrue();
        assertThat(edit.before()).isEqualTo(before);
        assertThat(edit.after()).isEqualTo("""
                {
                    "log-driver": "json-file",
                    "log-opts": {
                        "max-size": "10m",
                        "max-file": "3"
                    },
                    "insecure-registries": [
                        "registry.lan:5000",
                        "10.0.0.5:5000"
                    ],
                    "registry-mirrors": [
                        "https://mirror.gcr.io"
                    ],
                    "data-root": "/mnt/nvme/docker",
                    "default-runtime": "nvidia",
                    "runtimes": {
                        "nvidia": {
                            "path": "nvidia-container-runtime",
                            "args": []
                        }
                    }
                }
                """);
    }

    @Test
    void addsNvidiaBesideAnotherRuntime() {
        String before = "{\"runtimes\": {\"crun\": {\"path\": \"/usr/bin/crun\"}}, \"experimental\": true}";

        ConfigEdit edit = DaemonJsonMerge.enableNvidiaDefault(PATH, before);

        assertThat(edit.after()).isEqualTo("""
                {
                    "runtimes": {
                        "crun": {
                            "path": "/usr/bin/crun"
                        },
                        "nvidia": {
                            "path": "nvidia-container-runtime",
                            "args": []
                        }
                    },
                    "experimental": true,
                    "default-runtime": "nvidia"
                }
                """);
    }

    @Test
    void theJetPackStockFileKeepsItsNvidiaEntryAndGainsTheDefault() {
        String jetpack = """
                {
                    "runtimes": {
                        "nvidia": {
                            "path": "nvidia-container-runtime",
                            "runtimeArgs": []
                        }
                    }
                }
                """;

        ConfigEdit edit = DaemonJsonMerge.enableNvidiaDefault(PATH, jetpack);

        assertThat(edit).isEqualTo(new ConfigEdit(jetpack, """
                {
                    "runtimes": {
                        "nvidia": {
                            "path": "nvidia-container-runtime",
                            "runtimeArgs": []
                        }
                    },
                    "default-runtime": "nvidia"
                }
                """, true));
    }

    @Test
    void anotherDefaultRuntimeIsReplacedInPlace() {
        String before = """
                {
                    "default-runtime": "runc",
                    "runtimes": {
                        "nvidia": {
                            "path": "/usr/bin/nvidia-container-runtime",
                            "runtimeArgs": ["--debug"]
                        }
                    },
                    "log-level": "warn"
                }
                """;

        ConfigEdit edit = DaemonJsonMerge.enableNvidiaDefault(PATH, before);

        assertThat(edit.after()).isEqualTo("""
                {
                    "default-runtime": "nvidia",
                    "runtimes": {
                        "nvidia": {
                            "path": "/usr/bin/nvidia-container-runtime",
                            "runtimeArgs": [
                                "--debug"
                            ]
                        }
                    },
                    "log-level": "warn"
                }
                """);
    }

    @Test
    void aConvergedFileIsUnchangedByteForByteWhateverItsLayout() {
        String converged = "{ \"runtimes\":{\"nvidia\":{\"path\":\"nvidia-container-runtime\",\"runtimeArgs\":[]}},"
                + "\r\n  \"default-runtime\" : \"nvidia\",\"log-driver\":\"journald\" }";

        ConfigEdit edit = DaemonJsonMerge.enableNvidiaDefault(PATH, converged);

        assertThat(edit.changed()).isFalse();
        assertThat(edit.after()).isSameAs(edit.before()).isEqualTo(converged);
    }

    @Test
    void itsOwnOutputIsConverged() {
        String once = DaemonJsonMerge.enableNvidiaDefault(PATH, "{\"data-root\": \"/srv/docker\"}").after();

        assertThat(DaemonJsonMerge.enableNvidiaDefault(PATH, once)).isEqualTo(new ConfigEdit(once, once, false));
    }

    @Test
    void anNvidiaEntryWithoutPathGetsOne() {
        ConfigEdit edit = DaemonJsonMerge.enableNvidiaDefault(PATH,
                "{\"default-runtime\": \"nvidia\", \"runtimes\": {\"nvidia\": {\"runtimeArgs\": []}}}");

        assertThat(edit.after()).isEqualTo("""
                {
                    "default-runtime": "nvidia",
                    "runtimes": {
                        "nvidia": {
                            "runtimeArgs": [],
                            "path": "nvidia-container-runtime"
                        }
                    }
                }
                """);
    }

    @Test
    void keepsEveryValueTypeAsWritten() {
        String before = """
                {"live-restore": true, "mtu": 1450, "max-concurrent-downloads": 10, "shutdown-timeout": 15.50,
                 "dns": [], "labels": {}, "bip": null, "cgroup-parent": "",
                 "default-address-pools": [{"base": "172.80.0.0/16", "size": 24}],
                 "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}},
                 "features": {"buildkit": true}, "hosts": ["unix:///var/run/docker.sock", "tcp://127.0.0.1:2375"],
                 "authorization-plugins": ["\\u00e9t\\u00e9 \\"quoted\\" \\\\ back\\tslash"]}
                """;

        ConfigEdit edit = DaemonJsonMerge.enableNvidiaDefault(PATH, before);

        assertThat(edit.after()).isEqualTo("""
                {
                    "live-restore": true,
                    "mtu": 1450,
                    "max-concurrent-downloads": 10,
                    "shutdown-timeout": 15.50,
                    "dns": [],
                    "labels": {},
                    "bip": null,
                    "cgroup-parent": "",
                    "default-address-pools": [
                        {
                            "base": "172.80.0.0/16",
                            "size": 24
                        }
                    ],
                    "default-ulimits": {
                        "nofile": {
                            "Name": "nofile",
                            "Hard": 64000,
                            "Soft": 64000
                        }
                    },
                    "features": {
                        "buildkit": true
                    },
                    "hosts": [
                        "unix:///var/run/docker.sock",
                        "tcp://127.0.0.1:2375"
                    ],
                    "authorization-plugins": [
                        "été \\"quoted\\" \\\\ back\\tslash"
                    ],
                    "default-runtime": "nvidia",
                    "runtimes": {
                        "nvidia": {
                            "path": "nvidia-container-runtime",
                            "args": []
                        }
                    }
                }
                """);
    }

    @Test
    void aByteOrderMarkIsAccepted() {
        assertThat(DaemonJsonMerge.enableNvidiaDefault(PATH, "\uFEFF{}").after()).isEqualTo(FRESH);
    }

    @Test
    void invalidJsonIsRefusedNamingTheFileAndWhere() {
        String broken = """
                {
                  "log-driver": "json-file"
                  "data-root": "/mnt/docker"
                }
                """;

        assertThatThrownBy(() -> DaemonJsonMerge.enableNvidiaDefault(PATH, broken))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("/etc/docker/daemon.json is not valid JSON (line 3, "
                            + "column 3: Unexpected character ('\"' (code 34)): was expecting comma to separate "
                            + "Object entries)");
                    assertThat(e.hint()).isEqualTo("fix or remove the file, then run again; nothing was changed");
                    assertThat(e.exitCode()).isEqualTo(ExitCode.FAILED);
                    assertThat(e.path()).isEqualTo(PATH);
                });
    }

    @Test
    void aTrailingCommaIsInvalid() {
        assertThatThrownBy(() -> DaemonJsonMerge.enableNvidiaDefault(PATH, "{\n    \"debug\": true,\n}\n"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("/etc/docker/daemon.json is not valid JSON (line 3, column 1: Unexpected character "
                        + "('}' (code 125)): was expecting double-quote to start property name)");
    }

    @Test
    void aCutOffFileIsInvalid() {
        assertThatThrownBy(() -> DaemonJsonMerge.enableNvidiaDefault(PATH, "{\n    \"debug\": true\n"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("/etc/docker/daemon.json is not valid JSON (line 3, column 1: Unexpected end-of-input: "
                        + "expected close marker for Object)");
    }

    @Test
    void commentsAndTrailingContentAreInvalid() {
        assertThatThrownBy(() -> DaemonJsonMerge.enableNvidiaDefault(PATH, "{\"debug\": true} // on\n"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("/etc/docker/daemon.json is not valid JSON (line 1, column 17: Unexpected character "
                        + "('/' (code 47)): comments are not allowed in JSON)");
        assertThatThrownBy(() -> DaemonJsonMerge.enableNvidiaDefault(PATH, "{}\n{}\n"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("/etc/docker/daemon.json is not valid JSON (line 2, column 1: unexpected content after "
                        + "the end of the top-level value)");
    }

    @Test
    void anArrayAtTopLevelIsRefused() {
        assertThatThrownBy(() -> DaemonJsonMerge.enableNvidiaDefault(PATH, "[{\"default-runtime\": \"nvidia\"}]"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("/etc/docker/daemon.json is not a JSON object (its top level is an array), "
                        + "so Docker cannot read it");
    }

    @Test
    void runtimesThatAreNotObjectsAreRefused() {
        assertThatThrownBy(() -> DaemonJsonMerge.enableNvidiaDefault(PATH, "{\"runtimes\": [\"nvidia\"]}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("/etc/docker/daemon.json has \"runtimes\" as an array, where Docker expects an object");
        assertThatThrownBy(() -> DaemonJsonMerge.enableNvidiaDefault(PATH, "{\"runtimes\": {\"nvidia\": \"x\"}}"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("/etc/docker/daemon.json has \"runtimes\".\"nvidia\" as a string, where Docker expects "
                        + "an object");
    }
}
