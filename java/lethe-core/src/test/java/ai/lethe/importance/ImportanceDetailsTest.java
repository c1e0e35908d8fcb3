package ai.lethe.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.model.ParameterInfo;

/** The details an importance file carries beside its provenance (sample count, how a distributed pass cut D). */
class ImportanceDetailsTest {

    @TempDir
    Path dir;

    private static Importance importance(float value, long count, long samples) {
        Provenance p = new Provenance("f".repeat(64), Estimator.BATCH, 64, "data, labels sha256:0123", "full", "file", "");
        return new Importance(List.of(new ParameterInfo("w", new long[] {2})), new float[][] {{value, 2 * value}}, count, p)
                .withDetails(Map.of(Importance.SAMPLES, Long.toString(samples)));
    }

    @Test
    void detailsSurviveSaveAndLoadAndProvenanceIsUnchanged() throws Exception {
        Importance a = importance(3f, 2, 100).withDetails(Map.of("partitioning", "8 index ranges", "engine", "spark"));
        Path f = dir.resolve("i.safetensors");
        a.save(f);
        Importance b = Importance.load(f);
        assertEquals(a.provenance(), b.provenance());
        assertEquals(Map.of("samples", "100", "partitioning", "8 index ranges", "engine", "spark"), b.details());
        assertEquals(100, b.samples());
        assertEquals(2, b.count());
    }

    @Test
    void mergingAddsSampleCounts() {
        Importance m = importance(1f, 2, 100).merge(importance(1f, 3, 150));
        assertEquals(250, m.samples());
        assertEquals(5, m.count());
        assertEquals(-1, new Importance(m.parameters(), m.sums(), 5, m.provenance()).samples(), "not recorded");
    }

    @Test
    void provenanceKeysAreNotDetails() {
        assertThrows(IllegalArgumentException.class, () -> importance(1f, 1, 1).withDetails(Map.of("count", "7")));
    }
}
