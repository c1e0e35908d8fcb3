package ai.lethe.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Builds a safetensors file (F32 and I64 tensors, string metadata) and writes it atomically. Tensors keep
 * the order they were added in; the header is padded with spaces to a multiple of 8 bytes.
 */
public final class SafetensorsWriter {

    private record Pending(String name, String dtype, long[] shape, Object data) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter metadata(Map<String, String> values) {
        metadata.putAll(values);
        return this;
    }

    public SafetensorsWriter addFloats(String name, long[] shape, float[] data) {
        check(name, shape, data.length);
        tensors.add(new Pending(name, "F32", shape.clone(), data));
        return this;
    }

    public SafetensorsWriter addLongs(String name, long[] shape, long[] data) {
        check(name, shape, data.length);
        tensors.add(new Pending(name, "I64", shape.clone(), data));
        return this;
    }

    private void check(String name, long[] shape, int length) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape holds " + n + " elements, data " + length);
        }
        for (Pending p : tensors) {
            if (p.name.equals(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' added twice");
            }
        }
    }

    /** Writes to a temporary file and renames it to {@code path}: readers never see a partial file. */
    public void write(Path path) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", metadata);
        }
        long offset = 0;
        for (Pending p : tensors) {
            long bytes = (long) SafetensorsFile.dtypeSize(p.dtype) * elements(p);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", p.dtype);
            e.put("shape", p.shape);
            e.put("data_offsets", new long[] {offset, offset + bytes});
            header.put(p.name, e);
            offset += bytes;
        }
        byte[] json = new ObjectMapper().writeValueAsBytes(header);
        int padded = (json.length + 7) & ~7;
        AtomicFiles.write(path, (AtomicFiles.StreamWriter) out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
            out.write(len.array());
            out.write(json);
            for (int i = json.length; i < padded; i++) {
                out.write(' ');
            }
            for (Pending p : tensors) {
                writeData(out, p);
            }
        });
    }

    private static int elements(Pending p) {
        return p.data instanceof float[] f ? f.length : ((long[]) p.data).length;
    }

    private static void writeData(OutputStream out, Pending p) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        if (p.data instanceof float[] f) {
            for (float v : f) {
                if (!chunk.hasRemaining()) {
                    flush(out, chunk);
                }
                chunk.putFloat(v);
            }
        } else {
            for (long v : (long[]) p.data) {
                if (!chunk.hasRemaining()) {
                    flush(out, chunk);
                }
                chunk.putLong(v);
            }
        }
        flush(out, chunk);
    }

    private static void flush(OutputStream out, ByteBuffer chunk) throws IOException {
        out.write(chunk.array(), 0, chunk.position());
        chunk.clear();
    }

}
