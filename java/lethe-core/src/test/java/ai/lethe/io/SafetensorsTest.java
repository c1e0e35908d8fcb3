package ai.lethe.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.lethe.testing.Fixtures;

class SafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsFloatsLongsAndMetadata() throws IOException {
        Path p = dir.resolve("t.safetensors");
        float[] a = {1f, -2.5f, Float.MIN_VALUE, Float.MAX_VALUE, 0f, -0f};
        long[] b = {Long.MIN_VALUE, -1, 0, 7, Long.MAX_VALUE};
        new SafetensorsWriter().metadata("k", "v").metadata("unicode", "Iₓ ≥ α·I_D")
                .addFloats("layer.weight", new long[] {2, 3}, a).addLongs("y", new long[] {5}, b).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals("v", f.metadata().get("k"));
            assertEquals("Iₓ ≥ α·I_D", f.metadata().get("unicode"));
            assertEquals(List.of("layer.weight", "y"), f.entries().stream().map(SafetensorsFile.Entry::name).toList());
            assertArrayEquals(new long[] {2, 3}, f.entry("layer.weight").shape());
            assertArrayEquals(a, f.readFloats("layer.weight"));
            long[] got = new long[5];
            f.readLongs("y", 0, got, 0, 5);
            assertArrayEquals(b, got);
            float[] middle = new float[2];
            f.readFloats("layer.weight", 2, middle, 0, 2);
            assertArrayEquals(new float[] {Float.MIN_VALUE, Float.MAX_VALUE}, middle);
        }
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, header.getLong(0) % 8, "header padded to 8 bytes, as the format asks");
    }

    @Test
    void readsFilesWrittenByThePyTorchOracle() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.golden("ssd", "importance_full.safetensors"))) {
            assertEquals(8, f.entries().size());
            assertArrayEquals(new long[] {64, 1568}, f.entry("fc1.weight").shape());
            float[] v = f.readFloats("fc2.bias");
            assertEquals(10, v.length);
            for (float x : v) {
                assertTrue(x >= 0 && Float.isFinite(x), "importances are non-negative");
            }
        }
    }

    @Test
    void convertsHalfAndBfloat16() throws IOException {
        // 1.0, -2.0, 65504 (max half), 2^-24 (smallest half denormal)
        short[] half = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001};
        Path p = raw("h.safetensors", "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}", shorts(half[0], half[1], half[2], half[3],
                (short) 0x3F80, (short) 0xC040));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f}, f.readFloats("h"));
            assertArrayEquals(new float[] {1f, -3f}, f.readFloats("b"));
        }
    }

    @Test
    void missingFileSaysSo() {
        IOException e = assertThrows(IOException.class, () -> SafetensorsFile.open(dir.resolve("nope.safetensors")));
        assertTrue(e.getMessage().contains("nope.safetensors"), e.getMessage());
    }

    @Test
    void truncatedFileIsRejected() throws IOException {
        Path good = dir.resolve("good.safetensors");
        new SafetensorsWriter().addFloats("w", new long[] {100}, new float[100]).write(good);
        byte[] all = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(all, all.length - 10));
        LetheFormatException e = assertThrows(LetheFormatException.class, () -> SafetensorsFile.open(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Files.write(cut, Arrays.copyOf(all, 5));
        assertThrows(LetheFormatException.class, () -> SafetensorsFile.open(cut));
    }

    @Test
    void corruptHeadersAreRejected() throws IOException {
        assertRejected(raw("json.safetensors", "{not json", new byte[0]), "corrupt safetensors header");
        assertRejected(raw("size.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]),
                "needs 12");
        assertRejected(raw("outside.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4]),
                "outside the file");
        assertRejected(raw("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "overlap");
        assertRejected(raw("dtype.safetensors", "{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]),
                "unsupported dtype");
        assertRejected(raw("fields.safetensors", "{\"w\":{\"dtype\":\"F32\"}}", new byte[0]), "lacks dtype, shape or data_offsets");
        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40).array());
        assertRejected(huge, "not a safetensors file");
    }

    @Test
    void absentTensorNamesWhatIsThere() throws IOException {
        Path p = dir.resolve("t.safetensors");
        new SafetensorsWriter().addFloats("present", new long[] {1}, new float[] {1f}).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            LetheFormatException e = assertThrows(LetheFormatException.class, () -> f.readFloats("absent"));
            assertTrue(e.getMessage().contains("present"), e.getMessage());
        }
    }

    @Test
    void writerRefusesInconsistentTensors() {
        SafetensorsWriter w = new SafetensorsWriter().addFloats("a", new long[] {2}, new float[2]);
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("b", new long[] {3}, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("a", new long[] {2}, new float[2]));
    }

    private void assertRejected(Path p, String fragment) {
        LetheFormatException e = assertThrows(LetheFormatException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    private Path raw(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static byte[] shorts(short... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : v) {
            b.putShort(s);
        }
        return b.array();
    }
}
