package io.k3gpu.lab;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ShaCryptTest {

    @Test
    void matchesTheReferenceVectors() {
        // test vectors of Ulrich Drepper's SHA-crypt specification (default 5000 rounds)
        assertThat(ShaCrypt.hash("Hello world!", "saltstring")).isEqualTo(
                "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1");
    }

    @Test
    void randomSaltsGiveDifferentHashes() {
        String a = ShaCrypt.hash("secret");
        String b = ShaCrypt.hash("secret");
        assertThat(a).startsWith("$6$").hasSize(3 + 16 + 1 + 86).isNotEqualTo(b);
    }
}
