package io.k3gpu.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TerminalTextTest {

    @Test
    void plainTextTabsAndNewlinesPassUnchanged() {
        String text = "jetson1\tL4T 36.4.3\nnvidia-smi: 550.54.15 ° µs ✓ █\n";
        assertThat(TerminalText.strip(text)).isSameAs(text);
        assertThat(TerminalText.strip(null)).isNull();
    }

    @Test
    void aWindowTitleAndAScreenClearFromAHostnameAreRemoved() {
        assertThat(TerminalText.strip("evil\033]0;pwned\007\033[2Jhost")).isEqualTo("evilhost");
    }

    @Test
    void csiSequencesWithParametersAndIntermediatesAreRemovedWhole() {
        assertThat(TerminalText.strip("a\033[1;31mred\033[0m b\033[?25l\033[3 q\033[Kc")).isEqualTo("ared bc");
    }

    @Test
    void oscEndsAtBelOrStringTerminatorAndAnUnfinishedOneRunsToTheEnd() {
        assertThat(TerminalText.strip("x\033]8;;http://evil\033\\link\033]8;;\033\\y")).isEqualTo("xlinky");
        assertThat(TerminalText.strip("x\033]52;c;cGF5bG9hZA==\007y")).isEqualTo("xy");
        assertThat(TerminalText.strip("x\033]0;never ends")).isEqualTo("x");
    }

    @Test
    void deviceControlAndOtherStringsAreRemoved() {
        assertThat(TerminalText.strip("a\033P+q544e\033\\b\033_apc\033\\c\033^pm\007d\033Xsos\033\\e")).isEqualTo("abcde");
    }

    @Test
    void twoCharacterEscapesAreRemoved() {
        assertThat(TerminalText.strip("a\033cb\0337c\033(Bd\033#8e")).isEqualTo("abcde");
    }

    @Test
    void eightBitControlsAreRemovedWithTheirSequences() {
        assertThat(TerminalText.strip("a\u009b2Jb\u009d0;pwned\u009cc\u0085d")).isEqualTo("abcd");
    }

    @Test
    void otherControlCharactersAreRemovedButTabAndNewlineStay() {
        assertThat(TerminalText.strip("a\rb\bc\000d\007e\177f\tg\nh\r\n")).isEqualTo("abcdef\tg\nh\n");
    }

    @Test
    void aTrailingLoneEscapeIsRemoved() {
        assertThat(TerminalText.strip("end\033")).isEqualTo("end");
    }
}
