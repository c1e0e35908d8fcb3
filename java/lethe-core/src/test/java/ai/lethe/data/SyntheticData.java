package ai.lethe.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import ai.lethe.io.SafetensorsWriter;

/** Small datasets written by hand in every supported format, for reader and error tests. */
public final class SyntheticData {

    private SyntheticData() {
    }

    /** Pixel value of sample i at position j: distinct and easy to check. */
    public static int pixel(int i, int j) {
        return (i * 7 + j) % 256;
    }

    public static void idx(Path images, Path labels, int n, int rows, int cols, int[] y, boolean gzip) throws IOException {
        ByteBuffer img = ByteBuffer.allocate(16 + n * rows * cols).order(ByteOrder.BIG_ENDIAN);
        img.putInt(0x803).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < rows * cols; j++) {
                img.put((byte) pixel(i, j));
            }
        }
        ByteBuffer lab = ByteBuffer.allocate(8 + n).order(ByteOrder.BIG_ENDIAN);
        lab.putInt(0x801).putInt(n);
        for (int i = 0; i < n; i++) {
            lab.put((byte) y[i]);
        }
        write(images, img.array(), gzip);
        write(labels, lab.array(), gzip);
    }

    private static void write(Path p, byte[] data, boolean gzip) throws IOException {
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(p)) : Files.newOutputStream(p)) {
            out.write(data);
        }
    }

    /** A .npy file with the given descr ('|u1', '<f4', '<i8', ...), shape and raw little-endian data. */
    public static void npy(Path p, String descr, long[] shape, byte[] data, boolean fortran) throws IOException {
        StringBuilder s = new StringBuilder("(");
        for (long d : shape) {
            s.append(d).append(", ");
        }
        s.append(")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + s + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.ISO_8859_1)).put(data);
        Files.write(p, b.array());
    }

    public static byte[] uint8Images(int n, int per) {
        byte[] b = new byte[n * per];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < per; j++) {
                b[i * per + j] = (byte) pixel(i, j);
            }
        }
        return b;
    }

    public static byte[] int64(int[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putLong(x);
        }
        return b.array();
    }

    /**
     * A split as safetensors: float x [n, 1, rows, cols] and int64 y [n]. A non-null {@code poison} replaces every
     * pixel of the last sample (NaN for reader tests; Float.MAX_VALUE for activations that overflow).
     */
    public static void safetensors(Path p, int n, int rows, int cols, int[] y, Float poison) throws IOException {
        float[] x = new float[n * rows * cols];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < rows * cols; j++) {
                x[i * rows * cols + j] = pixel(i, j) / 255f;
            }
        }
        if (poison != null) {
            java.util.Arrays.fill(x, (n - 1) * rows * cols, n * rows * cols, poison);
        }
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = y[i];
        }
        new SafetensorsWriter().addFloats("x", new long[] {n, 1, rows, cols}, x).addLongs("y", new long[] {n}, labels).write(p);
    }
}
