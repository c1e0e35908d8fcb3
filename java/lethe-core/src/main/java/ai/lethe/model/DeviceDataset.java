package ai.lethe.model;

import java.io.IOException;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import ai.lethe.data.Batch;
import ai.lethe.data.Dataset;
import ai.lethe.data.RandomAccess;
import ai.lethe.data.ResidentSamples;
import ai.lethe.data.SampleReader;
import ai.lethe.report.Progress;

/**
 * A data set decoded once into one float tensor [N, sample shape] on a device (the model's GPU, or the host), so
 * every later pass reads its batches as slices of that tensor: a contiguous run of indices is a view, any other
 * batch one gather on the device. What it reads from disk, and what reports and provenance call it, are the wrapped
 * data set's. Owns the tensor: close it when the run is over.
 */
public final class DeviceDataset implements ResidentSamples, AutoCloseable {

    /** Floats decoded per host chunk while placing (bounded host memory whatever the data set's size). */
    private static final int CHUNK_FLOATS = 1 << 22;

    private final Dataset files;
    private final String device;
    private Tensor samples;

    private DeviceDataset(Dataset files, Tensor samples, String device) {
        this.files = files;
        this.samples = samples;
        this.device = device;
    }

    /** Bytes the samples of {@code d} take as fp32. */
    public static long bytes(Dataset d) {
        return 4L * d.size() * d.sampleSize();
    }

    /**
     * Decodes every sample of {@code d} and places them on {@code model}'s device (its GPU, or the host for a model
     * on the CPU). The decoding goes through a bounded host buffer; a device that cannot hold the data set is one
     * clear line.
     */
    public static DeviceDataset place(Dataset d, Model model, Progress progress) throws IOException {
        if (!(model instanceof LibtorchModel m)) {
            throw new IllegalArgumentException("data on the device needs a libtorch model, not " + model.description());
        }
        Progress p = progress == null ? Progress.NONE : progress;
        int per = d.sampleSize();
        int n = d.size();
        long[] shape = new long[d.sampleShape().length + 1];
        shape[0] = n;
        for (int i = 0; i < d.sampleShape().length; i++) {
            shape[i + 1] = d.sampleShape()[i];
        }
        Tensor host = torch.empty(shape, new TensorOptions(torch.ScalarType.Float), null);
        int perChunk = Math.max(1, CHUNK_FLOATS / Math.max(1, per));
        float[] chunk = new float[Math.min(n, perChunk) * per];
        p.start("placing " + d.description() + " on " + m.placement(), n, "samples");
        try (SampleReader reader = d.openReader()) {
            org.bytedeco.javacpp.FloatPointer dst = host.data_ptr_float();
            for (int start = 0; start < n; start += perChunk) {
                int count = Math.min(perChunk, n - start);
                for (int k = 0; k < count; k++) {
                    if (!reader.next(chunk, k * per)) {
                        throw new ai.lethe.io.LetheFormatException(d.description() + ": ended after " + (start + k) + " samples");
                    }
                }
                dst.position((long) start * per).put(chunk, 0, count * per);
                p.advance(start + count);
            }
            dst.position(0);
        } finally {
            p.finish();
        }
        Tensor placed;
        try {
            placed = m.onDevice(host);
        } catch (RuntimeException e) {
            ModelException oom = LibtorchModel.outOfMemory(e, n);
            throw oom != null ? new ModelException("the data set does not fit on " + m.placement() + " ("
                    + String.format("%.2f GiB", bytes(d) / (double) (1L << 30)) + "): use --data-on-device off") : e;
        }
        if (placed != host) {
            host.close(); // the copy from pageable memory has completed when onDevice returns
        }
        return new DeviceDataset(d, placed, m.placement());
    }

    /** Where the samples are, as {@link Model#placement()} says it. */
    public String device() {
        return device;
    }

    /** The batch's samples as a tensor on this data set's device: a view for a contiguous run, else a gather. */
    Tensor rows(Batch batch) {
        if (samples == null) {
            throw new IllegalStateException("the data set on " + device + " was closed");
        }
        int[] idx = batch.indices();
        int n = batch.size();
        boolean contiguous = true;
        for (int i = 1; i < n && contiguous; i++) {
            contiguous = idx[i] == idx[i - 1] + 1;
        }
        if (n > 0 && contiguous) {
            return samples.narrow(0, idx[0], n);
        }
        long[] rows = new long[n];
        for (int i = 0; i < n; i++) {
            rows[i] = idx[i];
        }
        Tensor at = torch.empty(new long[] {n}, new TensorOptions(torch.ScalarType.Long), null);
        at.data_ptr_long().put(rows);
        return samples.index_select(0, at.to(samples.device(), torch.ScalarType.Long));
    }

    @Override
    public String description() {
        return files.description();
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public int[] sampleShape() {
        return files.sampleShape();
    }

    @Override
    public int[] labels() throws IOException {
        return files.labels();
    }

    @Override
    public SampleReader openReader() throws IOException {
        return files.openReader();
    }

    @Override
    public RandomAccess openRandomAccess() throws IOException {
        return files.openRandomAccess();
    }

    /** The first n samples, read from the files (a limit is a new data set, not a view of this one). */
    @Override
    public Dataset limit(int n) {
        return files.limit(n);
    }

    @Override
    public synchronized void close() {
        if (samples != null) {
            samples.close();
            samples = null;
        }
    }
}
