package ai.lethe.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A safetensors file opened for reading: the header is parsed and checked up front (offsets inside the
 * file, sizes matching dtype × shape, no overlaps), tensor data is read on demand, also in ranges so a
 * large tensor (a dataset) can be streamed. Format: u64 little-endian header length, JSON header, data.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** One tensor's header entry; offsets are absolute positions in the file. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private final Path path;
    private final FileChannel channel;
    private final Map<String, String> metadata;
    private final Map<String, Entry> entries;

    private SafetensorsFile(Path path, FileChannel channel, Map<String, String> metadata, Map<String, Entry> entries) {
        this.path = path;
        this.channel = channel;
        this.metadata = metadata;
        this.entries = entries;
    }

    /** Opens and validates the header; the tensors are read later. */
    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "safetensors file not found");
        }
        try {
            return parse(path, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) {
            throw new LetheFormatException(path + ": not a safetensors file (" + fileSize + " bytes, truncated?)");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, len, 0);
        long headerLength = len.getLong(0);
        if (headerLength <= 0 || headerLength > MAX_HEADER || 8 + headerLength > fileSize) {
            throw new LetheFormatException(path + ": not a safetensors file (header length " + headerLength
                    + " does not fit a file of " + fileSize + " bytes; truncated or another format)");
        }
        ByteBuffer header = ByteBuffer.allocate((int) headerLength);
        readFully(ch, header, 8);
        JsonNode root;
        try {
            root = MAPPER.readTree(new String(header.array(), StandardCharsets.UTF_8).strip());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new LetheFormatException(path + ": corrupt safetensors header (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new LetheFormatException(path + ": corrupt safetensors header (not a JSON object)");
        }
        long dataStart = 8 + headerLength;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> list = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) {
                f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            list.add(entry(path, f.getKey(), f.getValue(), dataStart, fileSize));
        }
        list.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < list.size(); i++) {
            if (list.get(i).begin() < list.get(i - 1).end()) {
                throw new LetheFormatException(path + ": corrupt safetensors header (tensors '" + list.get(i - 1).name()
                        + "' and '" + list.get(i).name() + "' overlap)");
            }
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Entry e : list) {
            entries.put(e.name(), e);
        }
        return new SafetensorsFile(path, ch, Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(entries));
    }

    private static Entry entry(Path path, String name, JsonNode node, long dataStart, long fileSize) throws IOException {
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || shape == null || !shape.isArray() || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new LetheFormatException(path + ": corrupt safetensors header (entry '" + name + "' lacks dtype, shape or data_offsets)");
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i).asLong(-1);
            if (dims[i] < 0) {
                throw new LetheFormatException(path + ": tensor '" + name + "' has a negative dimension");
            }
        }
        long numel = 1;
        for (long d : dims) {
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException overflow) {
                throw new LetheFormatException(path + ": tensor '" + name + "' has shape " + java.util.Arrays.toString(dims)
                        + ", more elements than a file can hold");
            }
        }
        if (!offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw new LetheFormatException(path + ": corrupt safetensors header (entry '" + name + "' has data_offsets "
                    + offsets + ")");
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > fileSize) {
            throw new LetheFormatException(path + ": tensor '" + name + "' lies outside the file (" + fileSize
                    + " bytes); the file is truncated or corrupt");
        }
        Entry e = new Entry(name, dtype.asText(), dims, dataStart + begin, dataStart + end);
        int width = dtypeSize(e.dtype());
        if (width < 0) {
            throw new LetheFormatException(path + ": tensor '" + name + "' has unsupported dtype " + e.dtype());
        }
        if (e.end() > fileSize) {
            throw new LetheFormatException(path + ": tensor '" + name + "' lies outside the file (" + fileSize
                    + " bytes); the file is truncated or corrupt");
        }
        if (numel > (end - begin) || end - begin != numel * width) {
            throw new LetheFormatException(path + ": tensor '" + name + "' holds " + (end - begin) + " bytes but "
                    + e.dtype() + java.util.Arrays.toString(dims) + " needs " + e.numel() * width);
        }
        return e;
    }

    /** Bytes per element of a safetensors dtype, or -1 when unsupported. */
    static int dtypeSize(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL" -> 1;
            default -> -1;
        };
    }

    public Path path() {
        return path;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Entries in file order. */
    public List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The entry, or a clear error naming what the file does hold. */
    public Entry entry(String name) throws LetheFormatException {
        Entry e = entries.get(name);
        if (e == null) {
            List<String> names = new ArrayList<>(entries.keySet());
            throw new LetheFormatException(path + ": no tensor '" + name + "' (it holds "
                    + (names.size() <= 10 ? names : names.subList(0, 10) + " and " + (names.size() - 10) + " more") + ")");
        }
        return e;
    }

    /** A whole tensor as floats (F32, F64, F16 and BF16 are converted). */
    public float[] readFloats(String name) throws IOException {
        Entry e = entry(name);
        if (e.numel() > Integer.MAX_VALUE - 8) {
            throw new LetheFormatException(path + ": tensor '" + name + "' is too large to read at once");
        }
        float[] out = new float[(int) e.numel()];
        readFloats(name, 0, out, 0, out.length);
        return out;
    }

    /** Elements [first, first + count) of a tensor, in row-major order, as floats. */
    public void readFloats(String name, long first, float[] dst, int offset, int count) throws IOException {
        Entry e = entry(name);
        ByteBuffer b = range(e, first, count);
        switch (e.dtype()) {
            case "F32" -> b.asFloatBuffer().get(dst, offset, count);
            case "F64" -> {
                for (int i = 0; i < count; i++) {
                    dst[offset + i] = (float) b.getDouble(i * 8);
                }
            }
            case "F16" -> {
                for (int i = 0; i < count; i++) {
                    dst[offset + i] = halfToFloat(b.getShort(i * 2));
                }
            }
            case "BF16" -> {
                for (int i = 0; i < count; i++) {
                    dst[offset + i] = Float.intBitsToFloat((b.getShort(i * 2) & 0xFFFF) << 16);
                }
            }
            case "U8" -> {
                for (int i = 0; i < count; i++) {
                    dst[offset + i] = b.get(i) & 0xFF;
                }
            }
            default -> throw new LetheFormatException(path + ": tensor '" + name + "' has dtype " + e.dtype()
                    + ", expected a floating-point type");
        }
    }

    /** Elements [first, first + count) of an integer tensor (I64, I32, I16, I8, U8, U16, U32) as longs. */
    public void readLongs(String name, long first, long[] dst, int offset, int count) throws IOException {
        Entry e = entry(name);
        ByteBuffer b = range(e, first, count);
        for (int i = 0; i < count; i++) {
            dst[offset + i] = switch (e.dtype()) {
                case "I64", "U64" -> b.getLong(i * 8);
                case "I32" -> b.getInt(i * 4);
                case "U32" -> Integer.toUnsignedLong(b.getInt(i * 4));
                case "I16" -> b.getShort(i * 2);
                case "U16" -> b.getShort(i * 2) & 0xFFFF;
                case "I8" -> b.get(i);
                case "U8" -> b.get(i) & 0xFF;
                default -> throw new LetheFormatException(path + ": tensor '" + name + "' has dtype " + e.dtype()
                        + ", expected an integer type");
            };
        }
    }

    /** Raw bytes of elements [first, first + count) of a tensor, little-endian. */
    public ByteBuffer readRaw(String name, long first, int count) throws IOException {
        return range(entry(name), first, count);
    }

    private ByteBuffer range(Entry e, long first, int count) throws IOException {
        if (first < 0 || count < 0 || first + count > e.numel()) {
            throw new IndexOutOfBoundsException("elements [" + first + ", " + (first + count) + ") of tensor '" + e.name()
                    + "' with " + e.numel() + " elements");
        }
        int width = dtypeSize(e.dtype());
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(count, width)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, b, e.begin() + first * width);
        return b;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                throw new LetheFormatException("unexpected end of file at byte " + pos + " (truncated file?)");
            }
            pos += n;
        }
        b.clear(); // ready to read from the start

    }

    static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
