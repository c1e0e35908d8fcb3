package ai.lethe.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchStreamTest {

    @TempDir
    Path dir;

    private Dataset dataset(int n) throws IOException {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
        }
        SyntheticData.idx(dir.resolve("i"), dir.resolve("l"), n, 2, 2, y, true);
        return IdxDataset.open("syn", dir.resolve("i"), dir.resolve("l"));
    }

    @Test
    void theFirstSamplesOfABatchAreItsPrefix() {
        Batch b = new Batch(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, new int[] {2, 0, 1}, new int[] {7, 8, 9}, 3,
                new int[] {2, 2});
        Batch two = b.first(2);
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, two.x());
        assertArrayEquals(new int[] {2, 0}, two.y());
        assertArrayEquals(new int[] {7, 8}, two.indices());
        assertEquals(2, two.size());
        assertArrayEquals(new long[] {2, 2, 2}, two.shape());
        assertTrue(b.first(3) == b, "all of it is the batch itself");
        assertThrows(IllegalArgumentException.class, () -> b.first(0));
        assertThrows(IllegalArgumentException.class, () -> b.first(4));
    }

    @Test
    void retainThenForgetRunsBatchesAcrossThePassBoundary() throws IOException {
        Dataset d = dataset(10);
        int[] labels = d.labels();
        ForgetSet.Resolved f = ForgetSet.classes(1).resolve(labels, 3); // 1, 4, 7
        List<Integer> order = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        try (BatchStream s = new ForgetSplit(d, labels, f).fullRetainThenForget(4)) {
            assertEquals(10, s.expectedSamples());
            assertEquals(3, s.expectedBatches());
            while (s.hasNext()) {
                Batch b = s.next();
                sizes.add(b.size());
                for (int i = 0; i < b.size(); i++) {
                    order.add(b.indices()[i]);
                    assertEquals(labels[b.indices()[i]], b.y()[i]);
                    assertEquals(SyntheticData.pixel(b.indices()[i], 3) / 255f, b.x()[i * 4 + 3], 1e-7f);
                }
                assertArrayEquals(new long[] {b.size(), 1, 2, 2}, b.shape());
            }
        }
        assertEquals(List.of(0, 2, 3, 5, 6, 8, 9, 1, 4, 7), order, "Dr in file order, then Df in file order");
        assertEquals(List.of(4, 4, 2), sizes, "the last partial batch counts as a batch");
    }

    @Test
    void forgetAndRetainStreamsPartitionTheData() throws IOException {
        Dataset d = dataset(9);
        int[] labels = d.labels();
        ForgetSplit split = new ForgetSplit(d, labels, ForgetSet.indices(8, 0).resolve(labels, 3));
        assertEquals(List.of(0, 8), indices(split.forget(5)));
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), indices(split.retain(5)));
    }

    private static List<Integer> indices(BatchStream s) {
        List<Integer> out = new ArrayList<>();
        try (s) {
            s.forEachRemaining(b -> Arrays.stream(b.indices(), 0, b.size()).forEach(out::add));
        }
        return out;
    }

    /** A data set that announces samples of 2^26 values (a header can) and holds {@code size} of them, unreadable. */
    private static Dataset announcing(int size) {
        return new Dataset() {
            public String description() {
                return "announced";
            }

            public int size() {
                return size;
            }

            public int[] sampleShape() {
                return new int[] {1, 8192, 8192};
            }

            public int[] labels() {
                return new int[size];
            }

            public SampleReader openReader() throws IOException {
                throw new IOException("no sample is read in this test");
            }

            public RandomAccess openRandomAccess() throws IOException {
                throw new IOException("no sample is read in this test");
            }

            public Dataset limit(int n) {
                return announcing(Math.min(n, size));
            }
        };
    }

    @Test
    void aDataSetWithNoSampleAllocatesNoBatchHoweverLargeItsSamples() {
        // 33 samples of 2^26 values overflow an int: a buffer allocated up front failed (NegativeArraySizeException)
        try (BatchStream s = BatchStream.all(announcing(0), new int[0], 33)) {
            assertTrue(!s.hasNext(), "no batch");
        }
    }

    @Test
    void aBatchLargerThanAnArrayIsRefusedWithTheOptionToChange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BatchStream.all(announcing(40), new int[40], 33).close());
        assertTrue(e.getMessage().contains("--batch-size") && e.getMessage().contains("announced"), e.getMessage());
        // the same samples in batches that fit are accepted (the reader fails only when it is opened)
        try (BatchStream s = BatchStream.all(announcing(40), new int[40], 31)) {
            assertThrows(UncheckedIOException.class, s::hasNext);
        }
    }

    @Test
    void readErrorsReachTheConsumer() throws IOException {
        Dataset d = dataset(50);
        byte[] all = Files.readAllBytes(dir.resolve("i"));
        Files.write(dir.resolve("i"), Arrays.copyOf(all, all.length / 2)); // truncated gzip stream
        int[] labels = d.labels();
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> {
            try (BatchStream s = BatchStream.all(d, labels, 8)) {
                s.forEachRemaining(b -> { });
            }
        });
        assertTrue(e.getMessage().contains("syn") || e.getMessage().contains("truncated") || e.getMessage().contains("Unexpected end"),
                e.getMessage());
    }

    @Test
    void closingEarlyStopsTheReader() throws IOException {
        Dataset d = dataset(2000);
        int[] labels = d.labels();
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            for (int k = 0; k < 20; k++) {
                try (BatchStream s = BatchStream.all(d, labels, 1)) {
                    s.next();
                }
            }
        });
    }
}
