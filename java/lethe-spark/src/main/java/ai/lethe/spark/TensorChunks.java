package ai.lethe.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import scala.Tuple2;

/**
 * The chunked reduction's layout: every parameter tensor laid end to end and cut into chunks of a fixed number
 * of floats, so that no reducer (and no message) holds more than one chunk of a model too big to ship whole.
 */
final class TensorChunks {

    private TensorChunks() {
    }

    /** A partial sum as (chunk number, the same partial holding only that chunk's floats). */
    static List<Tuple2<Integer, PartialSum>> split(PartialSum p, int chunk) {
        long total = 0;
        for (float[] t : p.sums) {
            total += t.length;
        }
        int chunks = (int) ((total + chunk - 1) / chunk);
        List<Tuple2<Integer, PartialSum>> out = new ArrayList<>(chunks);
        int tensor = 0;
        int offset = 0;
        for (int c = 0; c < chunks; c++) {
            int n = (int) Math.min(chunk, total - (long) c * chunk);
            float[] values = new float[n];
            int filled = 0;
            while (filled < n) {
                float[] src = p.sums[tensor];
                int take = Math.min(n - filled, src.length - offset);
                System.arraycopy(src, offset, values, filled, take);
                filled += take;
                offset += take;
                if (offset == src.length) {
                    tensor++;
                    offset = 0;
                }
            }
            out.add(new Tuple2<>(c, p.withSums(new float[][] {values})));
        }
        return out;
    }

    /**
     * Puts reduced chunks back into tensors of {@code sizes}. Every chunk must cover the same pieces of D (each
     * chunk is reduced on its own, so each is checked); the result carries those pieces and counts.
     */
    static PartialSum assemble(Iterator<Tuple2<Integer, PartialSum>> chunks, long[] sizes, int chunk, int expected) {
        float[][] sums = new float[sizes.length][];
        for (int t = 0; t < sizes.length; t++) {
            sums[t] = new float[Math.toIntExact(sizes[t])];
        }
        boolean[] seen = new boolean[expected];
        PartialSum first = null;
        while (chunks.hasNext()) {
            Tuple2<Integer, PartialSum> e = chunks.next();
            int c = e._1();
            PartialSum p = e._2();
            if (seen[c]) {
                throw new IllegalStateException("chunk " + c + " of the reduction arrived twice");
            }
            seen[c] = true;
            if (first == null) {
                first = p;
            } else if (!java.util.Arrays.equals(first.ranges, p.ranges) || first.samples != p.samples || first.count != p.count) {
                throw new IllegalStateException("chunk " + c + " covers " + p.describeRanges() + " (" + p.samples
                        + " samples), chunk 0.. covers " + first.describeRanges() + " (" + first.samples + " samples)");
            }
            long start = (long) c * chunk;
            float[] values = p.sums[0];
            int tensor = 0;
            long tensorStart = 0;
            while (tensorStart + sizes[tensor] <= start) {
                tensorStart += sizes[tensor];
                tensor++;
            }
            int offset = (int) (start - tensorStart);
            int done = 0;
            while (done < values.length) {
                int take = Math.min(values.length - done, sums[tensor].length - offset);
                System.arraycopy(values, done, sums[tensor], offset, take);
                done += take;
                offset += take;
                if (offset == sums[tensor].length) {
                    tensor++;
                    offset = 0;
                }
            }
        }
        for (int c = 0; c < expected; c++) {
            if (!seen[c]) {
                throw new IllegalStateException("chunk " + c + " of " + expected + " is missing from the reduction");
            }
        }
        if (first == null) {
            throw new IllegalStateException("the reduction returned no chunks");
        }
        return first.withSums(sums);
    }
}
