// Used by scripts/per-sample/then-and-now.sh: compiled against each build in turn (the API it uses is the same in both).
import java.util.*;
import ai.lethe.data.*;
import ai.lethe.importance.*;
import ai.lethe.kernels.*;
import ai.lethe.model.zoo.*;

/** The per-sample estimator as the build on the class path runs it by default, beside its batch estimator. */
public class Today {
    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[0]);
        int reps = Integer.parseInt(a[1]);
        int warmUps = a.length > 2 ? Integer.parseInt(a[2]) : 1; // untimed passes first: JIT-compiled Java kernels reach C2 after a few thousand calls
        DataSource data = DataSource.open("fashion-mnist", n);
        List<Batch> batches = new ArrayList<>();
        try (BatchStream s = BatchStream.all(data.train(), data.train().labels(), 64)) { s.forEachRemaining(batches::add); }
        try (ZooModel model = ZooModel.create("cnn", ZooConfig.defaults(1, 28, 10), 0); Kernels k = Backends.open("cpu")) {
            double[] ps = new double[reps], bs = new double[reps];
            for (int r = -warmUps; r < reps; r++) {
                long t = System.nanoTime();
                new ImportanceEstimator(Estimator.PER_SAMPLE, k, null).estimate(model, batches.iterator(), batches.size(), "x",
                        new Provenance(model.fingerprint(), Estimator.PER_SAMPLE, 64, "f", "full", "file", ""));
                double p = (System.nanoTime() - t) / 1e9;
                t = System.nanoTime();
                new ImportanceEstimator(Estimator.BATCH, k, null).estimate(model, batches.iterator(), batches.size(), "x",
                        new Provenance(model.fingerprint(), Estimator.BATCH, 64, "f", "full", "file", ""));
                double b = (System.nanoTime() - t) / 1e9;
                if (r >= 0) { ps[r] = p; bs[r] = b; }
            }
            Arrays.sort(ps); Arrays.sort(bs);
            System.out.printf(Locale.ROOT, "per-sample %.3f s  batch %.3f s  (medians of %d after %d warm-up passes, %d samples)%n",
                    ps[reps / 2], bs[reps / 2], reps, warmUps, n);
        }
    }
}
