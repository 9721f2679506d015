package io.k3gpu.lab.k3s.controllers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/** The Indexed Job's pure parts, as pkg/controller/job/indexed_job_utils.go (v1.31) writes and reads them. */
class JobIndexesTest {
    static String intervals(Integer... indexes) {
        return JobController.intervals(new TreeSet<>(List.of(indexes)));
    }

    @Test
    void completedIndexesAreCompressedAsOrderedIntervalsString() {
        assertThat(intervals()).isEmpty();
        assertThat(intervals(0)).isEqualTo("0");
        assertThat(intervals(0, 1)).isEqualTo("0,1"); // two consecutive: a comma, not a range
        assertThat(intervals(0, 1, 2)).isEqualTo("0-2");
        assertThat(intervals(0, 1, 2, 4)).isEqualTo("0-2,4");
        assertThat(intervals(1, 3, 4, 5, 7, 8)).isEqualTo("1,3-5,7,8");
    }

    @Test
    void completedIndexesAreReadBack() {
        assertThat(JobController.parseIntervals("1,3-5,7")).containsExactly(1, 3, 4, 5, 7);
        assertThat(JobController.parseIntervals("")).isEmpty();
        assertThat(JobController.parseIntervals("x,2")).containsExactly(2);
    }

    @Test
    void podNamesCarryTheIndexAndStayWithinTheGeneratedNameLimit() {
        assertThat(JobController.generateNameWithIndex("train", 3)).isEqualTo("train-3-");
        String longName = "a".repeat(60);
        String prefix = JobController.generateNameWithIndex(longName, 12);
        assertThat(prefix).hasSize(58).endsWith("a-12-");
    }

    @Test
    void theIndexComesFromTheAnnotation() {
        assertThat(JobController.index(J.parse("{\"metadata\":{\"annotations\":{"
                + "\"batch.kubernetes.io/job-completion-index\":\"2\"}}}"))).isEqualTo(2);
        assertThat(JobController.index(J.parse("{\"metadata\":{}}"))).isEqualTo(-1);
    }
}
