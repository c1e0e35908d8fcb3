package ai.lethe.method;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import ai.lethe.data.Batch;
import ai.lethe.data.MnemonicCodes;
import ai.lethe.io.LetheFormatException;
import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.model.Loss;
import ai.lethe.model.Model;
import ai.lethe.profile.Profiler;

/**
 * One-shot unlearning with mnemonic codes (Yamashita et al., ACML 2024; docs/algorithms.md, section 3.3). The Fisher
 * information comes from the stored class codes alone (one forward/backward each, batch size 1, eval mode):
 * F_f over the forget classes, F_r over the others, both started at 1e-16. The update w ± α_l·exp(log F_f −
 * log F_r) runs in the {@code ratio_shift} kernel; the sign whose parameters score higher on the codes
 * ((1 − forget accuracy) + retain accuracy, strictly) wins, else the minus sign, as in the reference code.
 */
final class MnemonicMethod implements UnlearningMethod<MethodSettings.Mnemonic> {

    static final float FISHER_START = 1e-16f;

    @Override
    public Outcome forget(MethodContext ctx, MethodSettings.Mnemonic r) throws IOException {
        Model model = ctx.model();
        var forgetSet = ctx.split().forgetSet();
        if (!forgetSet.byClass()) {
            throw ai.lethe.InvalidSettingException.about("mnemonic unlearning forgets whole classes: use {forget_class}");
        }
        MnemonicCodes codes = r.codes() != null ? MnemonicCodes.load(r.codes()) : MnemonicCodes.of(model, ctx.modelPath());
        if (codes == null) {
            throw new LetheFormatException("the model carries no mnemonic codes (neither in its metadata nor in "
                    + (ctx.modelPath() == null ? "a codes file" : MnemonicCodes.besideModel(ctx.modelPath()).getFileName())
                    + "): train it with 'lethe train --mnemonic-codes', or pass --codes FILE");
        }
        int classes = model.numClasses(ctx.split().train().sampleShape());
        if (codes.classes() != classes || !java.util.Arrays.equals(codes.sampleShape(), ctx.split().train().sampleShape())) {
            throw new LetheFormatException("the mnemonic codes (" + codes.classes() + " classes of shape "
                    + java.util.Arrays.toString(codes.sampleShape()) + ") do not fit this model and data (" + classes
                    + " classes of shape " + java.util.Arrays.toString(ctx.split().train().sampleShape()) + ")");
        }
        List<Integer> forgetClasses = new ArrayList<>();
        List<Integer> retainClasses = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            (forgetSet.isForgetClass(c) ? forgetClasses : retainClasses).add(c);
        }
        Outcome out = new Outcome();
        Kernels k = ctx.kernels();
        long[] sizes = model.parameterSizes();
        long t = System.nanoTime();
        float[][] grads = model.readParameters();
        float[][] original = model.readParameters();
        try (TensorList fisherForget = k.allocate(sizes); TensorList fisherRetain = k.allocate(sizes);
             TensorList g = k.hostMemory() ? HostTensors.wrap(grads) : k.allocate(sizes)) {
            k.fill(fisherForget, FISHER_START);
            k.fill(fisherRetain, FISHER_START);
            for (int c = 0; c < classes; c++) {
                model.backward(codes.batch(c), Loss.CROSS_ENTROPY);
                model.gradients(grads);
                if (!k.hostMemory()) {
                    k.upload(grads, g);
                }
                k.accumulateSquare(forgetSet.isForgetClass(c) ? fisherForget : fisherRetain, g, 1f);
            }
            k.scale(fisherForget, 1f / forgetClasses.size());
            k.scale(fisherRetain, 1f / retainClasses.size());
            out.importanceForgetSeconds = MethodContext.seconds(t);

            Candidate plus;
            Candidate minus;
            Candidate chosen;
            try (Profiler.Span update = Profiler.span("update")) {
                plus = candidate(model, k, original, fisherForget, fisherRetain, +1f, r, codes, forgetClasses, retainClasses);
                minus = candidate(model, k, original, fisherForget, fisherRetain, -1f, r, codes, forgetClasses, retainClasses);
                chosen = plus.score() > minus.score() ? plus : minus;
                model.writeParameters(chosen.weights());
            }
            out.changed = model.parameterCount();
            out.details.put("sign", chosen.sign() > 0 ? "+" : "-");
            out.details.put("score_plus", plus.score());
            out.details.put("score_minus", minus.score());
            out.details.put("codes_forget_acc_after", chosen.forgetAcc());
            out.details.put("codes_retain_acc_after", chosen.retainAcc());
            out.details.put("alpha_min", min(chosen.alphas()));
            out.details.put("alpha_max", max(chosen.alphas()));
            out.details.put("codes", codes.classes() + " codes, " + codes.distribution() + ", seed " + codes.seed());
        }
        return out;
    }

    /** The parameters one sign gives, and their score on the codes. */
    record Candidate(float sign, float[][] weights, float[] alphas, double forgetAcc, double retainAcc) {
        double score() {
            return (1 - forgetAcc) + retainAcc;
        }
    }

    private static Candidate candidate(Model model, Kernels k, float[][] original, TensorList fisherForget, TensorList fisherRetain,
                                       float sign, MethodSettings.Mnemonic r, MnemonicCodes codes, List<Integer> forgetClasses,
                                       List<Integer> retainClasses) {
        float[] alphas;
        float[][] w;
        try (TensorList wl = k.upload(original)) {
            alphas = k.ratioShift(wl, fisherForget, fisherRetain, sign, r.lambda1(), r.lambda2());
            w = k.download(wl);
        }
        model.writeParameters(w);
        double forgetAcc = codeAccuracy(model, codes, forgetClasses);
        double retainAcc = codeAccuracy(model, codes, retainClasses);
        model.writeParameters(original);
        return new Candidate(sign, w, alphas, forgetAcc, retainAcc);
    }

    /** Fraction of the given classes whose own code the model classifies as that class. */
    static double codeAccuracy(Model model, MnemonicCodes codes, List<Integer> classes) {
        return ai.lethe.eval.Evaluator.accuracy(model, List.of(codes.batch(classes.stream().mapToInt(Integer::intValue).toArray())));
    }

    private static float min(float[] a) {
        float m = Float.POSITIVE_INFINITY;
        for (float v : a) {
            m = Math.min(m, v);
        }
        return m;
    }

    private static float max(float[] a) {
        float m = Float.NEGATIVE_INFINITY;
        for (float v : a) {
            m = Math.max(m, v);
        }
        return m;
    }
}
