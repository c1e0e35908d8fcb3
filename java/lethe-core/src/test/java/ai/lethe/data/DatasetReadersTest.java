package ai.lethe.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import ai.lethe.io.LetheFormatException;
import ai.lethe.testing.Fixtures;

class DatasetReadersTest {

    @TempDir
    Path dir;

    static final int[] Y = {3, 1, 4, 1, 5, 9, 2};

    @Test
    void readsRealFashionMnist() throws IOException {
        DataSource d = Fixtures.fashionMnist(0);
        assertEquals(60_000, d.train().size());
        assertEquals(10_000, d.test().size());
        assertArrayEquals(new int[] {1, 28, 28}, d.train().sampleShape());
        int[] labels = d.train().labels();
        assertEquals(9, labels[0], "the first training image of Fashion-MNIST is an ankle boot");
        assertEquals(6_000, Arrays.stream(labels).filter(l -> l == 1).count(), "6,000 trousers");
        float[] x = new float[784];
        try (SampleReader r = d.train().openReader()) {
            assertTrue(r.next(x, 0));
        }
        for (float v : x) {
            assertTrue(v >= 0 && v <= 1, "pixels scaled to [0, 1]");
        }
        assertEquals(2000, d.train().limit(2000).size());
        assertEquals("fashion-mnist train[:2000]", d.train().limit(2000).description());
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {true, false})
    void readsIdx(boolean gzip) throws IOException {
        SyntheticData.idx(dir.resolve("i"), dir.resolve("l"), Y.length, 3, 2, Y, gzip);
        Dataset d = IdxDataset.open("syn", dir.resolve("i"), dir.resolve("l"));
        assertSynthetic(d, new int[] {1, 3, 2});
    }

    @Test
    void readsNpyUint8AndFloat() throws IOException {
        SyntheticData.npy(dir.resolve("x.npy"), "|u1", new long[] {Y.length, 3, 2}, SyntheticData.uint8Images(Y.length, 6), false);
        SyntheticData.npy(dir.resolve("y.npy"), "<i8", new long[] {Y.length}, SyntheticData.int64(Y), false);
        assertSynthetic(NpyDataset.open("syn", dir.resolve("x.npy"), dir.resolve("y.npy")), new int[] {1, 3, 2});

        java.nio.ByteBuffer f = java.nio.ByteBuffer.allocate(Y.length * 6 * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < Y.length; i++) {
            for (int j = 0; j < 6; j++) {
                f.putFloat(SyntheticData.pixel(i, j) / 255f);
            }
        }
        SyntheticData.npy(dir.resolve("xf.npy"), "<f4", new long[] {Y.length, 1, 3, 2}, f.array(), false);
        assertSynthetic(NpyDataset.open("syn", dir.resolve("xf.npy"), dir.resolve("y.npy")), new int[] {1, 3, 2});
    }

    @Test
    void readsSafetensors() throws IOException {
        SyntheticData.safetensors(dir.resolve("s.safetensors"), Y.length, 3, 2, Y, null);
        assertSynthetic(SafetensorsDataset.open("syn", dir.resolve("s.safetensors")), new int[] {1, 3, 2});
    }

    private static void assertSynthetic(Dataset d, int[] shape) throws IOException {
        assertEquals(Y.length, d.size());
        assertArrayEquals(shape, d.sampleShape());
        assertArrayEquals(Y, d.labels());
        float[] x = new float[6];
        try (SampleReader r = d.openReader()) {
            for (int i = 0; i < Y.length; i++) {
                assertTrue(r.next(x, 0));
                for (int j = 0; j < 6; j++) {
                    assertEquals(SyntheticData.pixel(i, j) / 255f, x[j], 1e-7f, "sample " + i + " pixel " + j);
                }
            }
            assertFalse(r.next(x, 0), "end of data");
        }
        Dataset first = d.limit(3);
        assertArrayEquals(Arrays.copyOf(Y, 3), first.labels());
    }

    @Test
    void truncatedIdxIsRefusedWhenOpenedWithWhatItHoldsAndWhatItAnnounces() throws IOException {
        // Checked before anything is read or allocated: a forged header is a few bytes (see java/lethe-fuzz).
        SyntheticData.idx(dir.resolve("i"), dir.resolve("l"), Y.length, 3, 2, Y, false);
        byte[] all = Files.readAllBytes(dir.resolve("i"));
        Files.write(dir.resolve("i"), Arrays.copyOf(all, 16 + 6 * 4 + 3));
        LetheFormatException e = assertThrows(LetheFormatException.class,
                () -> IdxDataset.open("syn", dir.resolve("i"), dir.resolve("l")));
        assertTrue(e.getMessage().contains("truncated (43 bytes, its header announces 7 images in 58)"), e.getMessage());
        SyntheticData.idx(dir.resolve("i"), dir.resolve("l"), Y.length, 3, 2, Y, true); // the same, compressed
        byte[] gz = Files.readAllBytes(dir.resolve("i"));
        Files.write(dir.resolve("i"), gzip(Arrays.copyOf(gunzip(gz), 16 + 6 * 4 + 3)));
        e = assertThrows(LetheFormatException.class, () -> IdxDataset.open("syn", dir.resolve("i"), dir.resolve("l")));
        assertTrue(e.getMessage().contains("truncated (43 bytes decompressed, its header announces 7 images in 58)"), e.getMessage());
    }

    private static byte[] gzip(byte[] data) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] gunzip(byte[] data) throws IOException {
        try (java.util.zip.GZIPInputStream z = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(data))) {
            return z.readAllBytes();
        }
    }

    @Test
    void corruptGzipIsReported() throws IOException {
        SyntheticData.idx(dir.resolve("i"), dir.resolve("l"), Y.length, 3, 2, Y, true);
        byte[] all = Files.readAllBytes(dir.resolve("l"));
        all[all.length - 5] ^= 0x5a; // damage the CRC / size trailer
        all[12] ^= 0x5a;
        Files.write(dir.resolve("l"), all);
        assertThrows(LetheFormatException.class, () -> IdxDataset.open("syn", dir.resolve("i"), dir.resolve("l")).labels());
    }

    @Test
    void idxHeadersAreChecked() throws IOException {
        SyntheticData.idx(dir.resolve("i"), dir.resolve("l"), Y.length, 3, 2, Y, false);
        LetheFormatException e = assertThrows(LetheFormatException.class,
                () -> IdxDataset.open("syn", dir.resolve("l"), dir.resolve("i")));
        assertTrue(e.getMessage().contains("not an IDX images file"), e.getMessage());
        SyntheticData.idx(dir.resolve("i2"), dir.resolve("l2"), 5, 3, 2, Arrays.copyOf(Y, 5), false);
        e = assertThrows(LetheFormatException.class, () -> IdxDataset.open("syn", dir.resolve("i"), dir.resolve("l2")));
        assertTrue(e.getMessage().contains("7 images but"), e.getMessage());
    }

    @Test
    void npyProblemsAreNamed() throws IOException {
        SyntheticData.npy(dir.resolve("x.npy"), "|u1", new long[] {Y.length, 3, 2}, SyntheticData.uint8Images(Y.length, 6), true);
        SyntheticData.npy(dir.resolve("y.npy"), "<i8", new long[] {Y.length}, SyntheticData.int64(Y), false);
        assertTrue(assertThrows(LetheFormatException.class, () -> NpyDataset.open("s", dir.resolve("x.npy"), dir.resolve("y.npy")))
                .getMessage().contains("Fortran"));
        SyntheticData.npy(dir.resolve("x.npy"), "<f8", new long[] {Y.length, 3, 2}, new byte[Y.length * 48], false);
        assertTrue(assertThrows(LetheFormatException.class, () -> NpyDataset.open("s", dir.resolve("x.npy"), dir.resolve("y.npy")))
                .getMessage().contains("uint8 or float32"));
        SyntheticData.npy(dir.resolve("x.npy"), "|u1", new long[] {Y.length, 3, 2}, new byte[10], false);
        assertTrue(assertThrows(LetheFormatException.class, () -> NpyDataset.open("s", dir.resolve("x.npy"), dir.resolve("y.npy")))
                .getMessage().contains("truncated"));
        SyntheticData.npy(dir.resolve("x.npy"), "|u1", new long[] {Y.length, 3, 2}, SyntheticData.uint8Images(Y.length, 6), false);
        SyntheticData.npy(dir.resolve("y.npy"), "<i8", new long[] {3}, SyntheticData.int64(new int[] {1, 2, 3}), false);
        assertTrue(assertThrows(LetheFormatException.class, () -> NpyDataset.open("s", dir.resolve("x.npy"), dir.resolve("y.npy")))
                .getMessage().contains("expected [7]"));
        Files.writeString(dir.resolve("bad.npy"), "not numpy");
        assertTrue(assertThrows(LetheFormatException.class, () -> NpyDataset.open("s", dir.resolve("bad.npy"), dir.resolve("y.npy")))
                .getMessage().contains("not a .npy file"));
    }

    @Test
    void dataSpecsAreParsed() throws IOException {
        SyntheticData.idx(dir.resolve("train-images-idx3-ubyte.gz"), dir.resolve("train-labels-idx1-ubyte.gz"), 7, 3, 2, Y, true);
        SyntheticData.idx(dir.resolve("t10k-images-idx3-ubyte"), dir.resolve("t10k-labels-idx1-ubyte"), 7, 3, 2, Y, false);
        DataSource d = DataSource.open("idx:" + dir, 5);
        assertEquals(5, d.train().size());
        assertEquals(7, d.test().size());
        assertThrows(IllegalArgumentException.class, () -> DataSource.open("mnist-of-dreams", 0));
        assertThrows(NoSuchFileException.class, () -> DataSource.open("idx:" + dir.resolve("missing"), 0));
        assertThrows(IllegalArgumentException.class, () -> DataSource.open("idx:" + dir, -1));
    }

    @Test
    void theDataIdentityNamesTheFilesAbsolutelyAndChangesWithTheLabels() throws IOException {
        Path d = Files.createDirectory(dir.resolve("set"));
        for (String split : new String[] {"train", "test"}) {
            SyntheticData.npy(d.resolve(split + "_x.npy"), "|u1", new long[] {Y.length, 3, 2}, SyntheticData.uint8Images(Y.length, 6), false);
            SyntheticData.npy(d.resolve(split + "_y.npy"), "<i8", new long[] {Y.length}, SyntheticData.int64(Y), false);
        }
        Path cwd = Path.of("").toAbsolutePath();
        String absolute = identity("npy:" + d);
        assertEquals(absolute, identity("npy:" + cwd.relativize(d)), "a relative spec names the same files");
        assertEquals(absolute, identity("npy:" + d.resolve("..").resolve("set")));
        assertTrue(absolute.contains(d.toString()) && absolute.contains("labels sha256:"), absolute);
        int[] relabelled = Y.clone();
        relabelled[2] = 0;
        SyntheticData.npy(d.resolve("train_y.npy"), "<i8", new long[] {Y.length}, SyntheticData.int64(relabelled), false);
        assertFalse(absolute.equals(identity("npy:" + d)), "relabelled files behind the same name are other data");
    }

    private static String identity(String spec) throws IOException {
        DataSource s = DataSource.open(spec, 0);
        return ForgetSplit.identity(s.train(), s.train().labels());
    }

    @Test
    void floatImagesWithNaNOrInfinityAreRefusedWhereTheyAreRead() throws IOException {
        Path st = dir.resolve("nan.safetensors");
        SyntheticData.safetensors(st, Y.length, 3, 2, Y, Float.NaN);
        Dataset s = SafetensorsDataset.open("syn", st);
        float[] dst = new float[6];
        try (SampleReader r = s.openReader()) {
            for (int i = 0; i < Y.length - 1; i++) {
                assertTrue(r.next(dst, 0));
            }
            LetheFormatException e = assertThrows(LetheFormatException.class, () -> r.next(dst, 0));
            assertTrue(e.getMessage().contains("sample " + (Y.length - 1)) && e.getMessage().contains("NaN"), e.getMessage());
        }
        try (RandomAccess r = s.openRandomAccess()) {
            assertThrows(LetheFormatException.class, () -> r.read(Y.length - 1, dst, 0));
        }
        ByteBuffer f = ByteBuffer.allocate(Y.length * 6 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < Y.length * 6; i++) {
            f.putFloat(i == 13 ? Float.POSITIVE_INFINITY : 0.5f);
        }
        SyntheticData.npy(dir.resolve("inf_x.npy"), "<f4", new long[] {Y.length, 1, 3, 2}, f.array(), false);
        SyntheticData.npy(dir.resolve("inf_y.npy"), "<i8", new long[] {Y.length}, SyntheticData.int64(Y), false);
        Dataset n = NpyDataset.open("syn", dir.resolve("inf_x.npy"), dir.resolve("inf_y.npy"));
        try (SampleReader r = n.openReader()) {
            assertTrue(r.next(dst, 0) && r.next(dst, 0), "samples 0 and 1 are finite");
            LetheFormatException e = assertThrows(LetheFormatException.class, () -> r.next(dst, 0));
            assertTrue(e.getMessage().contains("sample 2") && e.getMessage().contains("Infinity"), e.getMessage());
        }
    }
}
