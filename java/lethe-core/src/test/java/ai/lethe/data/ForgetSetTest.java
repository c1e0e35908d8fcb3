package ai.lethe.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.io.LetheFormatException;

class ForgetSetTest {

    @TempDir
    Path dir;

    static final int[] LABELS = {0, 1, 2, 1, 0, 2, 1, 1};

    @Test
    void classesSelectEverySampleOfThem() throws IOException {
        ForgetSet.Resolved r = ForgetSet.classes(1).resolve(LABELS, 3);
        assertEquals(4, r.forgetCount());
        assertEquals(4, r.retainCount());
        assertTrue(r.isForget(1) && r.isForget(3) && r.isForget(6) && r.isForget(7));
        assertTrue(r.byClass() && r.isForgetClass(1) && !r.isForgetClass(0));
        assertEquals("classes 0,2", ForgetSet.classes(2, 0, 2).resolve(LABELS, 3).description());
    }

    @Test
    void classesOutOfRangeOrAbsentAreErrors() {
        assertTrue(assertThrows(LetheFormatException.class, () -> ForgetSet.classes(3).resolve(LABELS, 3))
                .getMessage().contains("out of range"));
        assertTrue(assertThrows(LetheFormatException.class, () -> ForgetSet.classes(-1).resolve(LABELS, 3))
                .getMessage().contains("out of range"));
        assertTrue(assertThrows(LetheFormatException.class, () -> ForgetSet.classes(2).resolve(new int[] {0, 1}, 3))
                .getMessage().contains("forget set is empty"));
    }

    @Test
    void indicesFileIsParsedWithLineNumbersInErrors() throws IOException {
        Path f = dir.resolve("idx.txt");
        Files.writeString(f, "# samples to delete\n2\n\n5\n2\n");
        ForgetSet.Resolved r = ForgetSet.indicesFile(f).resolve(LABELS, 3);
        assertEquals(2, r.forgetCount());
        assertFalse(r.byClass());
        Files.writeString(f, "1\nseven\n");
        assertTrue(assertThrows(LetheFormatException.class, () -> ForgetSet.indicesFile(f)).getMessage().contains(":2:"));
        Files.writeString(f, "8\n");
        assertTrue(assertThrows(LetheFormatException.class, () -> ForgetSet.indicesFile(f).resolve(LABELS, 3))
                .getMessage().contains("out of range"));
        Files.writeString(f, "# nothing\n");
        assertTrue(assertThrows(LetheFormatException.class, () -> ForgetSet.indicesFile(f).resolve(LABELS, 3))
                .getMessage().contains("empty"));
        assertThrows(IOException.class, () -> ForgetSet.indicesFile(dir.resolve("absent.txt")));
    }

    @Test
    void randomIsReproducibleFromTheSeed() throws IOException {
        int[] labels = new int[1000];
        ForgetSet.Resolved a = ForgetSet.random(0.1, 42).resolve(labels, 1);
        ForgetSet.Resolved b = ForgetSet.random(0.1, 42).resolve(labels, 1);
        ForgetSet.Resolved c = ForgetSet.random(0.1, 43).resolve(labels, 1);
        assertEquals(100, a.forgetCount());
        assertEquals(a.forget(), b.forget());
        assertFalse(a.forget().equals(c.forget()));
        assertThrows(IllegalArgumentException.class, () -> ForgetSet.random(0, 1));
        assertThrows(IllegalArgumentException.class, () -> ForgetSet.random(1, 1));
        assertThrows(LetheFormatException.class, () -> ForgetSet.random(0.001, 1).resolve(new int[10], 1));
    }
}
