package ai.lethe.method;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.DoubleFunction;
import java.util.function.Predicate;

import ai.lethe.data.ForgetSplit;
import ai.lethe.data.MnemonicCodes;
import ai.lethe.io.LetheFormatException;
import ai.lethe.kernels.HostTensors;
import ai.lethe.kernels.Kernels;
import ai.lethe.kernels.TensorList;
import ai.lethe.eval.Evaluator;
import ai.lethe.model.Loss;
import ai.lethe.model.Model;
import ai.lethe.profile.Profiler;

/**
 * One-shot unlearning with mnemonic codes (Yamashita et al., ACML 2024; docs/algorithms.md, section 3.3). The Fisher
 * information comes from the stored class codes alone (one forward/backward each, batch size 1, eval mode):
 * F_f over the forget classes, F_r over the others, both started at 1e-16. The update w ± α_l·exp(log F_f −
 * log F_r) runs in the {@code ratio_shift} kernel; the sign whose parameters score higher on the codes
 * ((1 − forget accuracy) + retain accuracy, strictly) wins, else the minus sign, as in the reference code.
 * With lambda1 = auto the step is searched on samples of Df and Dr ({@link HeldOutSearch}): the paper's λ1 suits
 * its MLP but is far too small a step on a convolutional network, and the codes alone cannot tell; the sign is then
 * chosen on those samples too. Two departures from the reference, both settings: weights that no retained class's
 * code reaches are not moved ({@code unreached = keep}, the default), and {@code scope = head} moves only the last layer.
 */
final class MnemonicMethod implements UnlearningMethod<MethodSettings.Mnemonic> {

    static final float FISHER_START = 1e-16f;

    /** F_f given to weights no retained code reaches when they are kept: η = F_f / F_r ≈ 1e-14, no step. */
    static final float UNREACHED_FORGET_FISHER = 1e-31f;

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
            long unreached = keepOrCountUnreached(k, fisherForget, fisherRetain, r.keepUnreached());
            out.details.put(r.keepUnreached() ? "unreached_kept" : "unreached_shifted", unreached);
            if (r.headOnly()) {
                out.details.put("head", holdAllButHead(model, k, fisherForget));
            }
            k.scale(fisherForget, 1f / forgetClasses.size());
            k.scale(fisherRetain, 1f / retainClasses.size());
            out.importanceForgetSeconds = MethodContext.seconds(t);

            Candidate chosen;
            try (Profiler.Span update = Profiler.span("update")) {
                Code code = new Code(model, k, original, fisherForget, fisherRetain, codes, forgetClasses, retainClasses);
                if (r.lambda1Auto()) {
                    chosen = searchLambda1(ctx, r, code, out);
                } else {
                    chosen = code.shift(r.lambda1(), r.lambda2());
                    if (chosen.forgetAcc() > 0) {
                        out.notes.add(String.format("the forget classes' codes are still recognised after the update (code"
                                + " accuracy %.2f): lambda1 = %s is too small a step for this model; --lambda1 auto searches"
                                + " it on held-out data", chosen.forgetAcc(), r.lambda1()));
                    }
                }
                model.writeParameters(chosen.weights());
            }
            out.changed = model.parameterCount();
            out.details.put("sign", chosen.sign() > 0 ? "+" : "-");
            out.details.put("score_plus", chosen.scorePlus());
            out.details.put("score_minus", chosen.scoreMinus());
            out.details.put("codes_forget_acc_after", chosen.forgetAcc());
            out.details.put("codes_retain_acc_after", chosen.retainAcc());
            out.details.put("alpha_min", min(chosen.alphas()));
            out.details.put("alpha_max", max(chosen.alphas()));
            out.details.put("codes", codes.classes() + " codes, " + codes.distribution() + ", seed " + codes.seed());
        }
        return out;
    }

    /**
     * Weights that no retained class's code reaches: the gradient was zero (below 2e-12) on every one, so F_r never
     * rose from its start. On a ReLU network many are (a unit off for every retain code; the paper's sigmoid MLP has
     * none): there η = F_f / 1e-16 reaches 1e7 and more, sets α_l of the whole tensor through max η, and the update
     * moves these weights, which the codes say nothing about but real images use, by up to λ2. With {@code keep} their
     * F_f is set to {@link #UNREACHED_FORGET_FISHER}, so η ≈ 1e-14: out of max η and not moved (a normal float even
     * after averaging over many forget classes, so no back end flushes it to 0, which would make η the tensor's largest).
     * Returns how many there are.
     */
    static long keepOrCountUnreached(Kernels k, TensorList fisherForget, TensorList fisherRetain, boolean keep) {
        float[][] retain = k.download(fisherRetain);
        float[][] forget = keep ? k.download(fisherForget) : null;
        long n = 0;
        for (int l = 0; l < retain.length; l++) {
            for (int j = 0; j < retain[l].length; j++) {
                if (retain[l][j] == FISHER_START) {
                    n++;
                    if (keep) {
                        forget[l][j] = UNREACHED_FORGET_FISHER;
                    }
                }
            }
        }
        if (keep && n > 0) {
            k.upload(forget, fisherForget);
        }
        return n;
    }

    /**
     * Scope head: every tensor but the last layer's (the tensors named like the last parameter, up to its last dot)
     * gets F_f = {@link #UNREACHED_FORGET_FISHER}, so its η ≈ 1e-14 and it does not move. Returns the head's tensors.
     */
    static List<String> holdAllButHead(Model model, Kernels k, TensorList fisherForget) {
        List<ai.lethe.model.ParameterInfo> params = model.parameters();
        String last = params.get(params.size() - 1).name();
        String layer = last.contains(".") ? last.substring(0, last.lastIndexOf('.') + 1) : last;
        float[][] forget = k.download(fisherForget);
        List<String> head = new ArrayList<>();
        for (int l = 0; l < params.size(); l++) {
            String name = params.get(l).name();
            if (name.equals(last) || name.startsWith(layer) && name.indexOf('.', layer.length()) < 0) {
                head.add(name);
            } else {
                java.util.Arrays.fill(forget[l], UNREACHED_FORGET_FISHER);
            }
        }
        k.upload(forget, fisherForget);
        return head;
    }

    /** The parameters of the winning sign, their score on the codes, and both signs' scores. */
    record Candidate(float sign, float[][] weights, float[] alphas, double forgetAcc, double retainAcc, double scorePlus,
                     double scoreMinus) {
    }

    /** The one-shot shift from the codes' Fisher, which can be applied with any lambda1 to the original parameters. */
    private record Code(Model model, Kernels k, float[][] original, TensorList fisherForget, TensorList fisherRetain,
                        MnemonicCodes codes, List<Integer> forgetClasses, List<Integer> retainClasses) {

        /**
         * Both signs applied to the original parameters and scored on the codes, (1 − forget accuracy) + retain
         * accuracy; the plus sign wins only with a strictly higher score (the reference code's tie rule). The
         * model is left with its original parameters.
         */
        Candidate shift(float lambda1, float lambda2) {
            Candidate[] both = both(lambda1, lambda2);
            return both[0].scorePlus() > both[0].scoreMinus() ? both[0] : both[1];
        }

        /** Both signs applied and scored on the codes: {plus, minus}. */
        Candidate[] both(float lambda1, float lambda2) {
            Side plus = side(+1f, lambda1, lambda2);
            Side minus = side(-1f, lambda1, lambda2);
            return new Candidate[] {plus.candidate(plus.score(), minus.score()), minus.candidate(plus.score(), minus.score())};
        }

        private record Side(float sign, float[][] weights, float[] alphas, double forgetAcc, double retainAcc) {
            double score() {
                return (1 - forgetAcc) + retainAcc;
            }

            Candidate candidate(double scorePlus, double scoreMinus) {
                return new Candidate(sign, weights, alphas, forgetAcc, retainAcc, scorePlus, scoreMinus);
            }
        }

        private Side side(float sign, float lambda1, float lambda2) {
            float[] alphas;
            float[][] w;
            try (TensorList wl = k.upload(original)) {
                alphas = k.ratioShift(wl, fisherForget, fisherRetain, sign, lambda1, lambda2);
                w = k.download(wl);
            }
            model.writeParameters(w);
            double forgetAcc = codeAccuracy(model, codes, forgetClasses);
            double retainAcc = codeAccuracy(model, codes, retainClasses);
            model.writeParameters(original);
            return new Side(sign, w, alphas, forgetAcc, retainAcc);
        }
    }

    /** λ1 candidates, from a small step to a large one (the paper's settings are 1e-5 and 1e-3). */
    static final double[] LAMBDA1_GRID = {1e-7, 1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1, 3, 10};

    /**
     * λ1 = auto: each candidate λ1 (with λ2 scaled alike) is applied with both signs and judged on held-out samples
     * of Df and Dr ({@link #betterSide} picks the sign); the smallest λ1 that brings the held-out forget accuracy to the target while the held-out retain
     * accuracy drops by at most max_retain_drop wins (docs/algorithms.md, section 3.3).
     */
    private static Candidate searchLambda1(MethodContext ctx, MethodSettings.Mnemonic r, Code code, Outcome out) throws IOException {
        ForgetSplit split = ctx.split();
        HeldOutSearch.HeldOut heldOut = HeldOutSearch.holdOut(split, r.holdoutFraction(), ctx.request().seed() ^ 0x6c616d626461L);
        if (heldOut.forget().isEmpty()) {
            throw ai.lethe.InvalidSettingException.about("{lambda1} auto needs a forget set large enough to sample some of it ("
                    + split.forgetSet().forgetCount() + " samples, hold-out fraction " + r.holdoutFraction() + ")");
        }
        HeldOutSearch.Target t = HeldOutSearch.target(r.targetForgetAcc(), r.referenceModel(), heldOut,
                MethodSettings.Mnemonic.DEFAULT_TARGET, "default (a model that never saw a class all but never predicts it)");
        Model model = code.model();
        double retain0 = Evaluator.accuracy(model, heldOut.retain());
        List<LambdaSearch.Point> curve = new ArrayList<>();
        // λ2 scales with λ1 (their ratio as given): below λ2 / max η the cap, not λ1, sets a tensor's step, and a
        // fixed λ2 would move the most class-specific element of every tensor by λ2 whatever λ1 is.
        float ratio = r.lambda2() / MethodSettings.Mnemonic.DEFAULTS.lambda1();
        // The sign is chosen on the held-out samples here, not on the codes: the codes' rule picks whichever side
        // makes the forget code unrecognised, and at some steps that is the side that wrecks the network (zoo cnn,
        // class 9: + at lambda1 3e-3, held-out retain accuracy 92% -> 40%, where - kept it).
        java.util.Map<Float, Float> chosenSign = new java.util.HashMap<>();
        DoubleFunction<LambdaSearch.Point> probe = l -> {
            LambdaSearch.Point p = null;
            Candidate side = null;
            for (Candidate c : code.both((float) l, (float) (l * ratio))) {
                model.writeParameters(c.weights());
                LambdaSearch.Point q = new LambdaSearch.Point((float) l, c.sign() > 0 ? "+" : "-", c.forgetAcc(),
                        Evaluator.accuracy(model, heldOut.forget()), Evaluator.accuracy(model, heldOut.retain()));
                model.writeParameters(code.original());
                if (p == null || betterSide(q, c, p, retain0, r.maxRetainDrop())) {
                    p = q;
                    side = c;
                }
            }
            chosenSign.put((float) l, side.sign());
            curve.add(p);
            ctx.progress().note(String.format("lambda1 %-9.4g sign %s  held-out forget acc %.4f  retain acc %.4f", l, p.sign(),
                    p.forgetAcc(), p.retainAcc()));
            return p;
        };
        Predicate<LambdaSearch.Point> retainOk = p -> HeldOutSearch.withinBudget(retain0, p.retainAcc(), r.maxRetainDrop());
        Predicate<LambdaSearch.Point> reached = p -> retainOk.test(p) && p.forgetAcc() <= t.forgetAcc();
        LambdaSearch.Point chosen = HeldOutSearch.walk(LAMBDA1_GRID, probe, retainOk, reached);
        if (chosen == null) {
            chosen = HeldOutSearch.closest(curve, retainOk, Comparator.comparing(LambdaSearch.Point::lambda1));
            out.notes.add(String.format("--lambda1 auto: no lambda1 reached the target forget accuracy %.4f while keeping the"
                    + " retain drop within %.4f; chose lambda1 %s (held-out forget accuracy %.4f, retain accuracy %.4f from %.4f)",
                    t.forgetAcc(), r.maxRetainDrop(), chosen.lambda1(), chosen.forgetAcc(), chosen.retainAcc(), retain0)
                    + (r.headOnly() ? "" : "; --mnemonic-scope head moves only the last layer, which reaches classes the"
                    + " whole-network update cannot (on a 5-epoch zoo cnn: 4 of 10 classes)"));
        }
        LambdaSearch search = new LambdaSearch(chosen.lambda1(), chosen.lambda1() * ratio, t.forgetAcc(), t.source(), retain0,
                r.maxRetainDrop(),
                heldOut.forgetCount(), heldOut.retainCount(), curve);
        out.details.put("lambda1_search", search);
        // Applied again rather than keeping every candidate's parameters (two copies of the model per λ1 tried).
        float sign = chosenSign.get(chosen.lambda1());
        for (Candidate c : code.both(chosen.lambda1(), chosen.lambda1() * ratio)) {
            if (c.sign() == sign) {
                return c;
            }
        }
        throw new IllegalStateException("no side with sign " + sign);
    }

    /**
     * Between the two signs at one λ1, judged on the held-out samples: the side that keeps the retain budget wins
     * over one that breaks it; between two that keep it, the one with the lower forget accuracy (the codes' choice on
     * a tie); when both break it, the codes' choice.
     */
    static boolean betterSide(LambdaSearch.Point q, Candidate c, LambdaSearch.Point p, double retain0, double maxDrop) {
        boolean qOk = HeldOutSearch.withinBudget(retain0, q.retainAcc(), maxDrop);
        boolean pOk = HeldOutSearch.withinBudget(retain0, p.retainAcc(), maxDrop);
        boolean codesPreferQ = (c.sign() > 0) == (c.scorePlus() > c.scoreMinus());
        if (qOk != pOk) {
            return qOk;
        }
        if (qOk && q.forgetAcc() != p.forgetAcc()) {
            return q.forgetAcc() < p.forgetAcc();
        }
        return codesPreferQ;
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
