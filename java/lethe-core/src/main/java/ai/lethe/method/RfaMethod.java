package ai.lethe.method;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import ai.lethe.data.Batch;
import ai.lethe.data.BatchStream;
import ai.lethe.data.ForgetSplit;
import ai.lethe.model.LibtorchModel;
import ai.lethe.model.Loss;
import ai.lethe.model.zoo.Net;
import ai.lethe.model.zoo.TensorTrainable;
import ai.lethe.model.zoo.ZooModel;
import ai.lethe.profile.Profiler;
import ai.lethe.train.Sgd;
import ai.lethe.train.Trainer;

/**
 * Residual Feature Alignment with LoRA (Qin et al., arXiv 2411.08443; no public code; docs/algorithms.md, section 3.5).
 * LoRA branches (rank r, B = 0) go beside the last k linear/convolutional layers; each layer's output splits
 * into the frozen feature F_l and the branch's residual ΔF_l. Only A and B train, on
 *
 * <pre>
 *   L = Σ_l mse(ΔF_l, 0) on Dr  +  β · Σ_l mse(ΔF_l, s_l(x)) on Df  +  w_ce · CE on Dr
 * </pre>
 *
 * where mse is the mean squared error over the feature's elements. The shift s_l is this implementation's
 * choice (the paper's is not public) and is configurable:
 * <ul>
 *   <li>{@code mean-other} (default): s_l(x) = κ · (μ_l(other classes) − F_l(x)), moving a forgotten sample's
 *       feature towards the mean feature of the retained classes other than its own (per-class means over up
 *       to 2,000 Dr samples, weighted by class size);</li>
 *   <li>{@code random}: s_l(x) = κ · ‖F_l(x)‖ · u_l, a fixed random unit direction per layer.</li>
 * </ul>
 * κ is shift_scale (--rfa-shift-scale). At the end every branch is merged (W ← W + B·A) and the model is a plain model again.
 */
final class RfaMethod implements UnlearningMethod<MethodSettings.Rfa> {

    static final int MEAN_SAMPLES = 2000;

    @Override
    public Outcome forget(MethodContext ctx, MethodSettings.Rfa r) throws IOException {
        if (!(ctx.model() instanceof ZooModel zoo)) {
            throw new IllegalArgumentException("rfa needs a zoo model (it inserts LoRA branches into the layers Lethe defines);"
                    + " train one with 'lethe train' or load a state_dict with --arch");
        }
        Net net = zoo.net();
        List<String> adaptable = net.adaptableLayers();
        if (r.loraLayers() > adaptable.size()) {
            throw ai.lethe.InvalidSettingException.about("{lora_layers} " + r.loraLayers() + " but " + net.arch() + " has only "
                    + adaptable.size() + " linear/convolutional layers");
        }
        List<String> layers = adaptable.subList(adaptable.size() - r.loraLayers(), adaptable.size());
        SplittableRandom rnd = new SplittableRandom(ctx.request().seed());
        Outcome out = new Outcome();
        Map<String, Boolean> trainable = new LinkedHashMap<>();
        net.parameters().forEach((n, t) -> trainable.put(n, t.requires_grad()));
        try {
            for (String layer : layers) {
                net.addLora(layer, r.rank(), 1f, rnd);
            }
            // Only A and B learn: no gradients for the frozen weights.
            net.parameters().values().forEach(t -> t.requires_grad_(false));
            net.capture(layers);
            Map<String, Tensor> targets = r.shift().equals("random") ? randomDirections(net, layers, ctx, rnd)
                    : otherClassMeans(net, layers, ctx);
            List<Double> losses = train(ctx, r, zoo, layers, targets, rnd, out);
            net.capture(null);
            long changed = 0;
            for (String layer : layers) {
                changed += net.parameters().get(layer + ".weight").numel();
            }
            net.mergeLora();
            zoo.changedInPlace();
            out.changed = changed;
            out.details.put("layers", layers);
            out.details.put("mean_loss_per_epoch", losses);
            out.details.put("shift", r.shift() + " (scale " + r.shiftScale() + ")");
            return out;
        } finally {
            net.capture(null);
            net.dropLora(); // on failure the model stays as it was; after a merge there is nothing left to drop
            net.parameters().forEach((n, t) -> t.requires_grad_(trainable.get(n)));
        }
    }

    private List<Double> train(MethodContext ctx, MethodSettings.Rfa r, ZooModel zoo, List<String> layers,
                               Map<String, Tensor> targets, SplittableRandom rnd, Outcome out) throws IOException {
        MethodSettings.Training t = r.training();
        Net net = zoo.net();
        TensorTrainable lora = TensorTrainable.loraOf(net);
        List<Double> losses = new ArrayList<>();
        int clipped = 0;
        int allSteps = 0;
        double maxNorm = 0;
        zoo.setTraining(false); // BatchNorm statistics stay frozen: only the branches change
        try (Sgd sgd = new Sgd(lora, ctx.kernels(), t.momentum(), t.weightDecay(), null);
             PairedBatches pairs = new PairedBatches(ctx.split(), t.trainBatchSize(), false, rnd)) {
            for (int e = 0; e < Math.max(1, t.epochs()); e++) {
                double sum = 0;
                int steps = 0;
                try (BatchStream retainStream = pairs.epoch()) {
                    ctx.progress().start("rfa epoch " + (e + 1), retainStream.expectedBatches(), "steps");
                    while (retainStream.hasNext()) {
                        Batch retain = retainStream.next();
                        double loss = step(net, lora, retain, pairs.nextPaired(), layers, targets, r);
                        if (!Double.isFinite(loss)) {
                            throw new IllegalStateException("rfa diverged in epoch " + (e + 1) + " at step " + (steps + 1)
                                    + " (loss " + loss + "); lower --lr" + (r.maxGradNorm() > 0 ? " or --max-grad-norm"
                                    : " or clip the gradient with --max-grad-norm"));
                        }
                        sum += loss;
                        sgd.addToCombined(1f);
                        if (r.maxGradNorm() > 0) {
                            double norm = sgd.clipCombined(r.maxGradNorm());
                            maxNorm = Math.max(maxNorm, norm);
                            if (norm > r.maxGradNorm()) {
                                clipped++;
                            }
                        }
                        sgd.stepCombined(t.lr());
                        steps++;
                        ctx.progress().advance(1);
                    }
                    ctx.progress().finish();
                }
                losses.add(sum / Math.max(1, steps));
                allSteps += steps;
            }
        }
        out.details.put("steps", allSteps);
        if (r.maxGradNorm() > 0) {
            out.details.put("clipped_steps", clipped);
            out.details.put("max_grad_norm_seen", maxNorm);
        }
        return losses;
    }

    /** Forward Dr and Df batches, the loss of the class comment, backward into A and B; returns the loss. */
    private static double step(Net net, TensorTrainable lora, Batch retain, Batch forget, List<String> layers,
                               Map<String, Tensor> targets, MethodSettings.Rfa r) {
        try (PointerScope scope = new PointerScope()) {
            lora.zeroGradients();
            Tensor loss;
            try (Profiler.Span fwd = Profiler.span("forward")) {
                loss = loss(net, retain, forget, layers, targets, r);
            }
            try (Profiler.Span s = Profiler.span("backward")) {
                loss.backward();
            }
            return loss.item_double();
        }
    }

    /** The loss of the class comment for one Dr batch and one Df batch (forward passes included). */
    private static Tensor loss(Net net, Batch retain, Batch forget, List<String> layers, Map<String, Tensor> targets,
                               MethodSettings.Rfa r) {
        Tensor logits = net.forward(net.placed(LibtorchModel.input(retain)));
        Tensor loss = LibtorchModel.loss(logits, retain, Loss.CROSS_ENTROPY).mul(new Scalar(r.ceWeight()));
        for (String l : layers) {
            loss = loss.add(net.captured().get(l)[1].pow(new Scalar(2)).mean());
        }
        net.forward(net.placed(LibtorchModel.input(forget)));
        Tensor y = net.placed(LibtorchModel.labels(forget));
        for (String l : layers) {
            Tensor[] c = net.captured().get(l);
            Tensor feature = c[0].detach();
            Tensor target;
            if (r.shift().equals("random")) {
                Tensor norm = feature.flatten(1, -1).norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2)), new long[] {1}, true);
                target = targets.get(l).unsqueeze(0).mul(reshapeLike(norm, feature)).mul(new Scalar(r.shiftScale()));
            } else {
                target = targets.get(l).index_select(0, y).sub(feature).mul(new Scalar(r.shiftScale()));
            }
            loss = loss.add(torch.mse_loss(c[1], target).mul(new Scalar(r.beta())));
        }
        return loss;
    }

    /** A [N, 1] column reshaped to broadcast against x [N, ...]. */
    private static Tensor reshapeLike(Tensor column, Tensor x) {
        long[] shape = new long[(int) x.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = x.size(0);
        return column.reshape(shape);
    }

    /**
     * Per layer, for every class c: the mean base feature of the retained samples of the other classes
     * ([classes, feature...]), from up to {@link #MEAN_SAMPLES} Dr samples.
     */
    private static Map<String, Tensor> otherClassMeans(Net net, List<String> layers, MethodContext ctx) {
        ForgetSplit split = ctx.split();
        int classes = ctx.model().numClasses(split.train().sampleShape());
        Map<String, Tensor> sums = new LinkedHashMap<>();
        long[] counts = new long[classes];
        int[] sample = IntStream.range(0, split.train().size()).filter(i -> !split.forgetSet().isForget(i)).limit(MEAN_SAMPLES).toArray();
        try (NoGradGuard g = new NoGradGuard();
             BatchStream s = BatchStream.ordered(split.train(), split.labels(), 256, sample, null)) {
            while (s.hasNext()) {
                Batch b = s.next();
                try (PointerScope scope = new PointerScope()) {
                    net.forward(net.placed(LibtorchModel.input(b)));
                    Tensor y = net.placed(LibtorchModel.labels(b));
                    for (String l : layers) {
                        Tensor f = net.captured().get(l)[0];
                        Tensor acc = sums.get(l);
                        if (acc == null) {
                            long[] shape = f.sizes().vec().get();
                            shape[0] = classes;
                            acc = f.new_zeros(shape);
                            acc.retainReference(); // outlives this batch's scope (detach would release it)
                            sums.put(l, acc);
                        }
                        acc.index_add_(0, y, f);
                    }
                }
                for (int i = 0; i < b.size(); i++) {
                    counts[b.y()[i]]++;
                }
            }
            long total = 0;
            for (long c : counts) {
                total += c;
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : sums.entrySet()) {
                Tensor all = e.getValue().sum(new long[] {0}, true, new org.bytedeco.pytorch.ScalarTypeOptional()); // [1, feature...]
                List<Tensor> rows = new ArrayList<>();
                for (int c = 0; c < classes; c++) {
                    long others = total - counts[c];
                    Tensor other = all.sub(e.getValue().narrow(0, c, 1)).div(new Scalar(Math.max(1, others)));
                    rows.add(other);
                }
                Tensor stacked = torch.cat(new org.bytedeco.pytorch.TensorArrayRef(new org.bytedeco.pytorch.TensorVector(rows.toArray(new Tensor[0]))), 0);
                out.put(e.getKey(), stacked);
            }
            return out;
        }
    }

    /** Per layer, a fixed random direction of unit norm with the feature's shape (without the batch dimension). */
    private static Map<String, Tensor> randomDirections(Net net, List<String> layers, MethodContext ctx, SplittableRandom rnd) {
        ForgetSplit split = ctx.split();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard(); BatchStream s = BatchStream.ordered(split.train(), split.labels(), 1, new int[] {0}, null)) {
            net.forward(net.placed(LibtorchModel.input(s.next())));
            for (String l : layers) {
                long[] shape = net.captured().get(l)[0].sizes().vec().get();
                long[] feature = java.util.Arrays.copyOfRange(shape, 1, shape.length);
                long n = 1;
                for (long d : feature) {
                    n *= d;
                }
                float[] v = new float[Math.toIntExact(n)];
                double norm = 0;
                for (int i = 0; i < v.length; i++) {
                    double x = Math.sqrt(-2 * Math.log(rnd.nextDouble(Double.MIN_VALUE, 1))) * Math.cos(2 * Math.PI * rnd.nextDouble());
                    v[i] = (float) x;
                    norm += x * x;
                }
                for (int i = 0; i < v.length; i++) {
                    v[i] /= (float) Math.sqrt(norm);
                }
                Tensor t = torch.empty(feature);
                t.data_ptr_float().put(v);
                out.put(l, net.placed(t));
            }
        }
        return out;
    }
}
