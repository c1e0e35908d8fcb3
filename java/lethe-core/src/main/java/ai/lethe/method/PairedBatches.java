package ai.lethe.method;

import java.util.SplittableRandom;
import java.util.stream.IntStream;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.ForgetSplit;
import ai.lethe.train.Trainer;

/**
 * The paired Df/Dr batches of the methods that step on both sets at once (NegGrad, RFA): an epoch is one
 * shuffled pass over the leading set, and each of its batches is paired with the next batch of the other set,
 * drawn from a shuffled pass that starts again whenever it runs out. The other set's first pass is shuffled
 * before the first epoch's, so the random stream is consumed in a fixed order.
 */
final class PairedBatches implements AutoCloseable {

    private final ForgetSplit split;
    private final int batchSize;
    private final int[] leading;
    private final int[] paired;
    private final SplittableRandom rnd;
    private BatchStream pairedStream;

    /** {@code forgetLeads}: an epoch is a pass over Df (NegGrad); otherwise over Dr (RFA). */
    PairedBatches(ForgetSplit split, int batchSize, boolean forgetLeads, SplittableRandom rnd) {
        this.split = split;
        this.batchSize = batchSize;
        int n = split.train().size();
        int[] forget = IntStream.range(0, n).filter(split.forgetSet()::isForget).toArray();
        int[] retain = IntStream.range(0, n).filter(i -> !split.forgetSet().isForget(i)).toArray();
        this.leading = forgetLeads ? forget : retain;
        this.paired = forgetLeads ? retain : forget;
        this.rnd = rnd;
        this.pairedStream = shuffled(paired);
    }

    /** A fresh shuffled pass over the leading set: one epoch (the caller closes it). */
    BatchStream epoch() {
        return shuffled(leading);
    }

    /** The next batch of the other set, starting a new shuffled pass over it when the last one has run out. */
    Batch nextPaired() {
        if (!pairedStream.hasNext()) {
            pairedStream.close();
            pairedStream = shuffled(paired);
        }
        return pairedStream.next();
    }

    private BatchStream shuffled(int[] indices) {
        return BatchStream.ordered(split.train(), split.labels(), batchSize, Trainer.permute(indices, rnd), null);
    }

    @Override
    public void close() {
        pairedStream.close();
    }
}
