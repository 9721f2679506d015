package io.k3gpu.core.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {

    @Test
    void linesSplitAcrossWritesAreJoinedAndCrlfIsDropped() {
        List<String> lines = new ArrayList<>();
        LineSplitter s = new LineSplitter(lines::add);
        byte[] data = "RAM 1/2MB\r\nCPU [1%]\nGR3D_".getBytes(StandardCharsets.UTF_8);
        s.write(data, 0, 5);
        s.write(data, 5, data.length - 5);
        s.write("FREQ 9%\n".getBytes(StandardCharsets.UTF_8), 0, 8);
        s.write('x');
        assertThat(lines).containsExactly("RAM 1/2MB", "CPU [1%]", "GR3D_FREQ 9%");
        s.close();
        assertThat(lines).containsExactly("RAM 1/2MB", "CPU [1%]", "GR3D_FREQ 9%", "x");
    }

    @Test
    void multiByteCharactersSplitBetweenWritesStayWhole() {
        List<String> lines = new ArrayList<>();
        LineSplitter s = new LineSplitter(lines::add);
        byte[] data = "cpu@42\u00b0C\n".getBytes(StandardCharsets.UTF_8);
        for (byte b : data) {
            s.write(new byte[] {b}, 0, 1);
        }
        assertThat(lines).containsExactly("cpu@42\u00b0C");
    }

    @Test
    void anEndlessLineIsHandedOverInPieces() {
        List<String> lines = new ArrayList<>();
        LineSplitter s = new LineSplitter(lines::add);
        byte[] big = new byte[LineSplitter.MAX_LINE * 2 + 10];
        java.util.Arrays.fill(big, (byte) 'a');
        s.write(big, 0, big.length);
        s.close();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).hasSize(LineSplitter.MAX_LINE);
        assertThat(lines.get(2)).hasSize(10);
    }
}
