package ai.lethe.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import ai.lethe.io.LetheFormatException;

/**
 * Fixed-size samples stored one after another in a file (IDX, .npy, safetensors data), read in blocks
 * through a file channel. Skipping ahead is a seek, so a pass over a small forget set reads only the
 * blocks that hold it.
 */
final class RecordReader implements SampleReader, RandomAccess {

    /** How a sample's values are stored. */
    enum Encoding {
        /** unsigned bytes, scaled to [0, 1] */
        U8_SCALED(1),
        F32_LITTLE(4),
        F32_BIG(4);

        final int width;

        Encoding(int width) {
            this.width = width;
        }
    }

    private static final int BLOCK_BYTES = 1 << 20;

    private final FileChannel channel;
    private final long dataOffset;
    private final int count;
    private final int values;
    private final Encoding encoding;
    private final Path file;
    private final int recordBytes;
    private final ByteBuffer block;
    private final int recordsPerBlock;
    private int next;
    private int blockFirst = -1;
    private int blockCount;
    private ByteBuffer single;

    /**
     * @param count  samples to expose (the file must hold at least this many; checked here)
     * @param values values per sample
     * @param what   how to name the file and its samples in errors, for example "images"
     */
    RecordReader(Path file, long dataOffset, int count, int values, Encoding encoding, String what, int declared)
            throws IOException {
        long bytesPerRecord = (long) values * encoding.width;
        if (values < 0 || bytesPerRecord > Integer.MAX_VALUE - 8) {
            throw new LetheFormatException(file + ": samples of " + values + " values are larger than Lethe reads");
        }
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        this.file = file;
        this.dataOffset = dataOffset;
        this.count = count;
        this.values = values;
        this.encoding = encoding;
        this.recordBytes = (int) bytesPerRecord;
        long held = (channel.size() - dataOffset) / Math.max(1, recordBytes);
        if (held < count) {
            channel.close();
            throw new LetheFormatException(file + ": truncated after " + Math.max(0, held) + " of " + declared + " " + what);
        }
        this.recordsPerBlock = Math.max(1, BLOCK_BYTES / Math.max(1, recordBytes));
        // never more than the samples there are: the file has been seen to hold them
        this.block = ByteBuffer.allocate(Math.min(recordsPerBlock, count) * recordBytes)
                .order(encoding == Encoding.F32_BIG ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean next(float[] dst, int offset) throws IOException {
        if (next >= count) {
            return false;
        }
        if (next < blockFirst || next >= blockFirst + blockCount) {
            fill(next);
        }
        decode(block, (next - blockFirst) * recordBytes, dst, offset, next);
        next++;
        return true;
    }

    private void decode(ByteBuffer from, int at, float[] dst, int offset, int index) throws LetheFormatException {
        if (encoding == Encoding.U8_SCALED) {
            for (int i = 0; i < values; i++) {
                dst[offset + i] = (from.get(at + i) & 0xFF) / 255f;
            }
        } else {
            for (int i = 0; i < values; i++) {
                dst[offset + i] = from.getFloat(at + 4 * i);
            }
            SampleReader.requireFinite(dst, offset, values, file, index);
        }
    }

    @Override
    public boolean skip(float[] scratch) {
        if (next >= count) {
            return false;
        }
        next++;
        return true;
    }

    @Override
    public void skipTo(int index, float[] scratch) {
        next = Math.max(next, Math.min(index, count));
    }

    @Override
    public void read(int index, float[] dst, int offset) throws IOException {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("sample " + index + " of " + count);
        }
        if (index >= blockFirst && index < blockFirst + blockCount) {
            next = index;
            next(dst, offset);
            return;
        }
        // A shuffled read: fetch this record alone (a whole block per random sample would copy megabytes).
        if (single == null) {
            single = ByteBuffer.allocate(recordBytes).order(block.order());
        }
        single.clear();
        long pos = dataOffset + (long) index * recordBytes;
        while (single.hasRemaining()) {
            int r = channel.read(single, pos);
            if (r < 0) {
                throw new LetheFormatException("unexpected end of file at byte " + pos + " (truncated?)");
            }
            pos += r;
        }
        decode(single, 0, dst, offset, index);
    }

    private void fill(int first) throws IOException {
        int n = Math.min(recordsPerBlock, count - first);
        block.clear().limit(n * recordBytes);
        long pos = dataOffset + (long) first * recordBytes;
        while (block.hasRemaining()) {
            int r = channel.read(block, pos);
            if (r < 0) {
                throw new LetheFormatException("unexpected end of file at byte " + pos + " (truncated?)");
            }
            pos += r;
        }
        block.clear();
        blockFirst = first;
        blockCount = n;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
