package io.k3gpu.core.facts;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CudaVersionTest {
    private static final String VERSION_JSON_12_6 = """
            {
               "cuda" : {
                  "name" : "CUDA SDK",
                  "version" : "12.6.68"
               },
               "cuda_cccl" : {
                  "name" : "CUDA C++ Core Compute Libraries",
                  "version" : "12.6.37"
               }
            }
            """;
    private static final String NVCC_12_6 = """
            nvcc: NVIDIA (R) Cuda compiler driver
            Copyright (c) 2005-2024 NVIDIA Corporation
            Built on Wed_Aug_14_10:14:07_PDT_2024
            Cuda compilation tools, release 12.6, V12.6.68
            Build cuda_12.6.r12.6/compiler.34714021_0
            """;

    @Test
    void readsVersionTxtOfCuda10() {
        assertThat(CudaVersion.parse("CUDA Version 10.2.300\n", null, null)).contains("10.2.300");
    }

    @Test
    void readsTheCudaMemberOfVersionJson() {
        assertThat(CudaVersion.parse(null, VERSION_JSON_12_6, null)).contains("12.6.68");
    }

    @Test
    void readsATruncatedVersionJson() {
        String truncated = VERSION_JSON_12_6.substring(0, VERSION_JSON_12_6.indexOf("\"cuda_cccl\"") + 20);

        assertThat(CudaVersion.parse("", truncated, "")).contains("12.6.68");
    }

    @Test
    void readsTheFullVersionFromNvcc() {
        assertThat(CudaVersion.parse(null, null, NVCC_12_6)).contains("12.6.68");
    }

    @Test
    void readsTheReleaseFromAnNvccWithoutBuildVersion() {
        assertThat(CudaVersion.parse(null, null, "Cuda compilation tools, release 9.0\n")).contains("9.0");
    }

    @Test
    void versionTxtComesFirstThenVersionJsonThenNvcc() {
        assertThat(CudaVersion.parse("CUDA Version 10.2.300", VERSION_JSON_12_6, NVCC_12_6)).contains("10.2.300");
        assertThat(CudaVersion.parse("", VERSION_JSON_12_6.replace("12.6.68", "12.6.77"), NVCC_12_6))
                .contains("12.6.77");
        assertThat(CudaVersion.parse("", "{}", NVCC_12_6)).contains("12.6.68");
    }

    @Test
    void noSourceIsNoVersion() {
        assertThat(CudaVersion.parse(null, null, null)).isEmpty();
        assertThat(CudaVersion.parse("", "", "")).isEmpty();
        assertThat(CudaVersion.parse("garbage", "not json", "sh: nvcc: not found")).isEmpty();
    }
}
