package ai.lethe.method;

import java.util.List;

/**
 * What Mnemonic's search of λ1 ({@code lambda1 = auto}) did: the λ1 chosen (and λ2, scaled alike), the target forget accuracy and where it
 * came from, the held-out samples, and every λ1 tried (the report's {@code details.lambda1_search}).
 */
public record LambdaSearch(float chosenLambda1, float chosenLambda2, double targetForgetAcc, String targetSource, double retainAccBefore,
                           double maxRetainDrop, int holdoutForgetSamples, int holdoutRetainSamples, List<Point> curve) {

    /** One λ1 tried: the sign the codes chose, the forget classes' code accuracy, the held-out accuracies. */
    public record Point(float lambda1, String sign, double codesForgetAcc, double forgetAcc, double retainAcc)
            implements HeldOutSearch.Probed {
        @Override
        public double value() {
            return lambda1;
        }
    }
}
