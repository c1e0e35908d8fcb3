package ai.lethe.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.lethe.io.LetheFormatException;

/**
 * A pair of NumPy {@code .npy} files: images (uint8, scaled to [0, 1], or float32 as they are) of shape
 * [N, ...] and integer labels [N]. Images of shape [N, H, W] are read as single-channel [1, H, W].
 */
public final class NpyDataset implements Dataset {

    /** A parsed .npy header. */
    record Header(String dtype, boolean littleEndian, long[] shape, long dataOffset) {
        long count() {
            return shape.length == 0 ? 1 : shape[0];
        }

        long perItem() {
            long n = 1;
            for (int i = 1; i < shape.length; i++) {
                n *= shape[i];
            }
            return n;
        }

        int width() {
            return Integer.parseInt(dtype.substring(1));
        }
    }

    /** The longest .npy header read (NumPy writes a few hundred bytes). */
    private static final int MAX_HEADER = 1 << 20;

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([a-zA-Z])(\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private final String name;
    private final Path images;
    private final Path labels;
    private final Header imageHeader;
    private final Header labelHeader;
    private final int[] sampleShape;
    private final int limit;

    private NpyDataset(String name, Path images, Path labels, Header imageHeader, Header labelHeader, int[] sampleShape,
                       int limit) {
        this.name = name;
        this.images = images;
        this.labels = labels;
        this.imageHeader = imageHeader;
        this.labelHeader = labelHeader;
        this.sampleShape = sampleShape;
        this.limit = limit;
    }

    public static NpyDataset open(String name, Path images, Path labels) throws IOException {
        Header x = readHeader(images);
        Header y = readHeader(labels);
        if (!x.dtype().equals("u1") && !x.dtype().equals("f4")) {
            throw new LetheFormatException(images + ": images must be uint8 or float32, found dtype " + x.dtype());
        }
        if (!y.dtype().startsWith("i") && !y.dtype().startsWith("u")) {
            throw new LetheFormatException(labels + ": labels must be integers, found dtype " + y.dtype());
        }
        if (x.shape().length < 2) {
            throw new LetheFormatException(images + ": images need a shape [N, ...], found " + Arrays.toString(x.shape()));
        }
        if (y.shape().length != 1 || y.count() != x.count()) {
            throw new LetheFormatException(labels + ": labels have shape " + Arrays.toString(y.shape()) + ", expected ["
                    + x.count() + "] to match " + images);
        }
        if (y.width() != 1 && y.width() != 2 && y.width() != 4 && y.width() != 8) {
            throw new LetheFormatException(labels + ": labels must be 1, 2, 4 or 8-byte integers, found dtype " + y.dtype());
        }
        // What the headers announce must be in the files before anything is allocated for it.
        if (x.count() > Integer.MAX_VALUE || x.perItem() > IdxDataset.MAX_PIXELS) {
            throw new LetheFormatException(images + ": shape " + Arrays.toString(x.shape()) + " is larger than Lethe reads (at most "
                    + Integer.MAX_VALUE + " samples of " + IdxDataset.MAX_PIXELS + " values)");
        }
        requireHolds(images, x);
        requireHolds(labels, y);
        int[] shape = new int[x.shape().length == 3 ? 3 : x.shape().length - 1];
        if (x.shape().length == 3) {
            shape[0] = 1;
            shape[1] = (int) x.shape()[1];
            shape[2] = (int) x.shape()[2];
        } else {
            for (int i = 1; i < x.shape().length; i++) {
                shape[i - 1] = (int) x.shape()[i];
            }
        }
        return new NpyDataset(name, images, labels, x, y, shape, (int) x.count());
    }

    private static void requireHolds(Path p, Header h) throws IOException {
        long size = Files.size(p);
        // no overflow: count <= 2^31 (checked for images; labels have one value per image) and perItem <= 2^26
        long needed = h.dataOffset() + h.count() * h.perItem() * h.width();
        if (needed > size) {
            throw new LetheFormatException(p + ": truncated (" + size + " bytes, its header announces " + needed + ")");
        }
    }

    static Header readHeader(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString(), null, ".npy file not found");
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(p)))) {
            byte[] magic = new byte[6];
            in.readFully(magic);
            if (magic[0] != (byte) 0x93 || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
                throw new LetheFormatException(p + ": not a .npy file");
            }
            int major = in.readUnsignedByte();
            in.readUnsignedByte();
            ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            int headerLength;
            if (major == 1) {
                in.readFully(len.array(), 0, 2);
                headerLength = Short.toUnsignedInt(len.getShort(0));
            } else {
                in.readFully(len.array(), 0, 4);
                headerLength = len.getInt(0);
            }
            if (headerLength < 0 || headerLength > Files.size(p) - (major == 1 ? 10 : 12) || headerLength > MAX_HEADER) {
                throw new LetheFormatException(p + ": corrupt .npy header (length " + Integer.toUnsignedString(headerLength)
                        + " in a file of " + Files.size(p) + " bytes)");
            }
            byte[] h = new byte[headerLength];
            in.readFully(h);
            String dict = new String(h, StandardCharsets.ISO_8859_1);
            Matcher d = DESCR.matcher(dict);
            Matcher f = FORTRAN.matcher(dict);
            Matcher s = SHAPE.matcher(dict);
            if (!d.find() || !f.find() || !s.find()) {
                throw new LetheFormatException(p + ": corrupt .npy header: " + LetheFormatException.printable(dict));
            }
            if (f.group(1).equals("True")) {
                throw new LetheFormatException(p + ": Fortran-ordered arrays are not supported (save with np.ascontiguousarray)");
            }
            String[] parts = s.group(1).split(",");
            long[] shape = Arrays.stream(parts).map(String::strip).filter(x -> !x.isEmpty()).mapToLong(Long::parseLong).toArray();
            long items = 1; // only to refuse a shape whose element count overflows
            for (long dim : shape) {
                if (dim < 0 || dim > Integer.MAX_VALUE) {
                    throw new LetheFormatException(p + ": .npy shape " + Arrays.toString(shape) + " has a dimension out of range");
                }
                items = Math.multiplyExact(items, dim);
            }
            if (d.group(3).length() > 2) {
                throw new LetheFormatException(p + ": unsupported .npy dtype " + LetheFormatException.printable(d.group(0)));
            }
            boolean little = !d.group(1).equals(">");
            String dtype = d.group(2).toLowerCase() + d.group(3);
            long offset = 6 + 2 + (major == 1 ? 2 : 4) + headerLength;
            return new Header(dtype, little, shape, offset);
        } catch (EOFException e) {
            throw new LetheFormatException(p + ": truncated .npy header");
        } catch (NumberFormatException | ArithmeticException e) {
            throw new LetheFormatException(p + ": corrupt .npy shape");
        }
    }

    @Override
    public String description() {
        return name + (limit < imageHeader.count() ? "[:" + limit + "]" : "");
    }

    @Override
    public int size() {
        return limit;
    }

    @Override
    public int[] sampleShape() {
        return sampleShape.clone();
    }

    @Override
    public Dataset limit(int n) {
        return new NpyDataset(name, images, labels, imageHeader, labelHeader, sampleShape, Math.min(n, limit));
    }

    @Override
    public int[] labels() throws IOException {
        int width = labelHeader.width();
        byte[] raw = new byte[Math.multiplyExact(limit, width)];
        try (InputStream in = Files.newInputStream(labels)) {
            in.skipNBytes(labelHeader.dataOffset());
            new DataInputStream(in).readFully(raw);
        } catch (EOFException e) {
            throw new LetheFormatException(labels + ": truncated (fewer labels than its header announces)");
        }
        ByteBuffer b = ByteBuffer.wrap(raw).order(labelHeader.littleEndian() ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        boolean unsigned = labelHeader.dtype().startsWith("u");
        int[] out = new int[limit];
        for (int i = 0; i < limit; i++) {
            long v = switch (width) {
                case 1 -> unsigned ? raw[i] & 0xFF : raw[i];
                case 2 -> unsigned ? b.getShort(i * 2) & 0xFFFF : b.getShort(i * 2);
                case 4 -> b.getInt(i * 4);
                case 8 -> b.getLong(i * 8);
                default -> throw new LetheFormatException(labels + ": unsupported label width " + width);
            };
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new LetheFormatException(labels + ": label " + v + " at index " + i + " is out of range");
            }
            out[i] = (int) v;
        }
        return out;
    }

    @Override
    public RandomAccess openRandomAccess() throws IOException {
        return (RandomAccess) openReader();
    }

    @Override
    public RecordReader openReader() throws IOException {
        RecordReader.Encoding enc = imageHeader.dtype().equals("u1") ? RecordReader.Encoding.U8_SCALED
                : imageHeader.littleEndian() ? RecordReader.Encoding.F32_LITTLE : RecordReader.Encoding.F32_BIG;
        return new RecordReader(images, imageHeader.dataOffset(), limit, sampleSize(), enc, "samples",
                (int) imageHeader.count());
    }
}
