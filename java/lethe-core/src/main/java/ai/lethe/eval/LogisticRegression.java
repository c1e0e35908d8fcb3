package ai.lethe.eval;

/**
 * One-feature logistic regression with balanced class weights, fitted exactly by Newton's method: the
 * attack model of the SSD code's MIA (scikit-learn's LogisticRegression(class_weight="balanced",
 * solver="lbfgs", multi_class="multinomial"), C = 1).
 *
 * <p>Objective: Σ_i s_i·logloss(y_i, w·x_i + b) + w²/4, with s_i = n / (2·n_{y_i}). The w²/4 is scikit-learn's
 * multinomial L2 penalty ½(w₀² + w₁²) for two classes written in the binary form (w = w₁ − w₀ with
 * w₁ = −w₀ at the optimum); the intercept is not penalised.
 */
public final class LogisticRegression {

    private final double weight;
    private final double intercept;

    private LogisticRegression(double weight, double intercept) {
        this.weight = weight;
        this.intercept = intercept;
    }

    /** Fits labels y (0 or 1) on feature x. Both classes must be present. */
    public static LogisticRegression fit(double[] x, int[] y) {
        int n = x.length;
        int ones = 0;
        for (int v : y) {
            if (v != 0 && v != 1) {
                throw new IllegalArgumentException("labels must be 0 or 1, got " + v);
            }
            ones += v;
        }
        int zeros = n - ones;
        if (ones == 0 || zeros == 0) {
            throw new IllegalArgumentException("logistic regression needs both classes (" + ones + " ones, " + zeros + " zeros)");
        }
        double s1 = n / (2.0 * ones);
        double s0 = n / (2.0 * zeros);
        double w = 0;
        double b = 0;
        for (int iter = 0; iter < 100; iter++) {
            // gradient and Hessian of the objective in (w, b)
            double gw = 0.5 * w;
            double gb = 0;
            double hww = 0.5;
            double hwb = 0;
            double hbb = 1e-12;
            for (int i = 0; i < n; i++) {
                double s = y[i] == 1 ? s1 : s0;
                double p = sigmoid(w * x[i] + b);
                double r = s * (p - y[i]);
                gw += r * x[i];
                gb += r;
                double h = s * p * (1 - p);
                hww += h * x[i] * x[i];
                hwb += h * x[i];
                hbb += h;
            }
            double det = hww * hbb - hwb * hwb;
            double dw = (hbb * gw - hwb * gb) / det;
            double db = (hww * gb - hwb * gw) / det;
            w -= dw;
            b -= db;
            if (Math.abs(dw) + Math.abs(db) < 1e-12 * (1 + Math.abs(w) + Math.abs(b))) {
                break;
            }
        }
        return new LogisticRegression(w, b);
    }

    private static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    public double weight() {
        return weight;
    }

    public double intercept() {
        return intercept;
    }

    /** P(y = 1 | x). */
    public double probability(double x) {
        return sigmoid(weight * x + intercept);
    }

    /** 1 when P(y = 1 | x) > 1/2. */
    public int predict(double x) {
        return weight * x + intercept > 0 ? 1 : 0;
    }
}
